"""What /api/client-certs takes and answers, in CertMate's names: its create request, its batch of CSV
rows, its renew (plus an optional new CSR), and the metadata document it keeps per certificate."""

from __future__ import annotations

from rest_framework import serializers

from certmate.api.fields import IntegerField

MAX_BATCH_ROWS = 100  # CertMate's limit
MAX_COLUMNS = 20


class ClientCertificateCreateSerializer(serializers.Serializer):
    """POST /api/client-certs/create (and each batch row, with its values as text)."""

    common_name = serializers.CharField(max_length=64, help_text="The subject's common name (1 to 64 characters).")
    email = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=254, help_text="E-mail address (in the subject)."
    )
    organization = serializers.CharField(
        required=False, allow_blank=True, default="CertMate", max_length=64, help_text="Organization (O)."
    )
    organizational_unit = serializers.CharField(
        required=False, allow_blank=True, default="Users", max_length=64, help_text="Organizational unit (OU)."
    )
    cert_usage = serializers.CharField(
        required=False,
        allow_blank=True,
        default="api-mtls",
        max_length=40,
        help_text="What it is for, as CertMate names it: vpn, api-mtls, user-auth, ...",
    )
    days_valid = IntegerField(
        required=False, default=365, min_value=1, max_value=3650, help_text="Validity in days (1 to 3650)."
    )
    generate_key = serializers.BooleanField(
        required=False, default=True, help_text="true: certmate makes the key; false: send the holder's CSR in csr."
    )
    csr = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        trim_whitespace=False,
        help_text="With generate_key=false: the holder's CSR (PEM). Its key stays with the holder.",
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="Free text kept with it."
    )

    def validate(self, attrs):
        if not attrs["generate_key"] and not (attrs.get("csr") or "").strip():
            raise serializers.ValidationError({"csr": ["CSR required when generate_key=False"]}, code="required")
        return attrs


class ClientCertificateRenewSerializer(serializers.Serializer):
    csr = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        trim_whitespace=False,
        help_text="certmate's addition: the holder's new CSR (PEM), to renew a CSR-based certificate whose "
        "profile does not re-sign the same key. Without it: a new key (server-side) or the same CSR re-signed.",
    )


class ClientCertificateRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="unspecified",
        max_length=1000,
        help_text="Why, as free text (CertMate's). An RFC 5280 reason in any spelling (keyCompromise, "
        "key_compromise, superseded, affiliationChanged, cessationOfOperation, certificateHold) is that reason; "
        "any other text is recorded as unspecified, the text kept in the audit log. removeFromCRL: use POST "
        "/api/certificates/{identifier}/unhold?kind=client.",
    )


class ClientCertificateRevokedSerializer(serializers.Serializer):
    message = serializers.CharField(help_text='"Certificate revoked: <identifier>"')


class ClientCertificateBatchSerializer(serializers.Serializer):
    """CertMate's batch: a CSV's header row and its rows, as JSON lists."""

    headers = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=True, help_text="A column name."),
        max_length=MAX_COLUMNS,
        help_text="Column names: common_name (required), email, organization, organizational_unit, cert_usage, "
        "days_valid, notes.",
    )
    rows = serializers.ListField(
        child=serializers.ListField(
            child=serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False, help_text="A value."),
            max_length=MAX_COLUMNS,
            help_text="One row's values, in the headers' order.",
        ),
        help_text=f"At most {MAX_BATCH_ROWS} rows.",
    )

    def validate_rows(self, rows):
        if len(rows) > MAX_BATCH_ROWS:
            raise serializers.ValidationError(
                f"Batch size exceeds maximum of {MAX_BATCH_ROWS} certificates", code="too_many_rows"
            )
        return rows

    def validate_headers(self, headers):
        if "common_name" not in [header.strip() for header in headers]:
            raise serializers.ValidationError("CSV must have 'common_name' column", code="required")
        return headers


class ClientCertificateMetadataSerializer(serializers.Serializer):
    """The metadata CertMate keeps per client certificate (describes the answers; built in views)."""

    type = serializers.CharField(help_text="client")
    identifier = serializers.CharField(help_text="The certificate's name: a slug of its common name and 8 hex digits.")
    common_name = serializers.CharField(help_text="The subject's common name.")
    email = serializers.CharField(help_text="The subject's e-mail address, or empty.")
    organization = serializers.CharField(help_text="O, or empty.")
    organizational_unit = serializers.CharField(help_text="OU, or empty.")
    cert_usage = serializers.CharField(help_text="What it is for (vpn, api-mtls, ...).")
    key_usage = serializers.ListField(child=serializers.CharField(), help_text="Key usages of the current version.")
    extended_key_usage = serializers.ListField(
        child=serializers.CharField(), help_text="Extended key usages of the current version (clientAuth)."
    )
    created_at = serializers.CharField(help_text="When the certificate was first issued (ISO 8601).")
    expires_at = serializers.CharField(help_text="When the current version expires (ISO 8601).")
    days_valid = IntegerField(help_text="The validity asked for, in days.")
    serial_number = serializers.CharField(help_text="The current version's serial, in decimal.")
    renewal_enabled = serializers.BooleanField(help_text="Whether the renewal sweep renews it.")
    renewal_threshold_days = IntegerField(help_text="Days before expiry it is renewed (never before mid-life).")
    csr_required = serializers.BooleanField(help_text="Signed from the holder's CSR: certmate holds no key.")
    ca_used = serializers.CharField(help_text="The name of the CA that signed the current version.")
    revoked = serializers.BooleanField(help_text="Whether the current version is revoked.")
    revoked_at = serializers.CharField(allow_null=True, help_text="When it was revoked, or null.")
    reason_revoked = serializers.CharField(
        allow_null=True, help_text="Why it was revoked (an RFC 5280 reason: unspecified for free text), or null."
    )
    notes = serializers.CharField(help_text="Free text kept with it.")
    status = serializers.CharField(help_text="certmate's addition: active, failed, or needs_csr (send a new CSR).")
    version = IntegerField(allow_null=True, help_text="certmate's addition: the current version's number.")


class ClientCertificateCreatedSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text="The new certificate's name.")
    metadata = ClientCertificateMetadataSerializer(help_text="Its metadata.")


class ClientCertificateListSerializer(serializers.Serializer):
    certificates = ClientCertificateMetadataSerializer(many=True, help_text="Newest first.")
    total = IntegerField(help_text="How many.")


class ClientCertificateStatsSerializer(serializers.Serializer):
    total = IntegerField(help_text="Client certificates.")
    active = IntegerField(help_text="Those not revoked.")
    revoked = IntegerField(help_text="Those revoked.")
    by_usage = serializers.DictField(child=IntegerField(), help_text="Not revoked, by cert_usage.")
    by_organization = serializers.DictField(child=IntegerField(), help_text="Not revoked, by organization.")
    ca_status = serializers.CharField(help_text="active when the default CA issues, else not_loaded.")


class BatchErrorSerializer(serializers.Serializer):
    row = IntegerField(help_text="The row's line in the CSV (2 is the first after the header).")
    error = serializers.CharField(help_text="Why it was not issued.")


class BatchIssuedSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text="The new certificate's name.")
    common_name = serializers.CharField(help_text="Its common name.")


class ClientCertificateBatchResultSerializer(serializers.Serializer):
    total = IntegerField(help_text="Rows sent.")
    successful = IntegerField(help_text="Rows issued.")
    failed = IntegerField(help_text="Rows refused.")
    errors = BatchErrorSerializer(many=True, help_text="Each refused row and why.")
    certificates = BatchIssuedSerializer(many=True, help_text="Each issued certificate.")
