"""How a certificate, its versions and its jobs read in the API. Certificate rows carry CertMate's
fields (domain, exists, expiry_date, days_left, ...) and certmate's own beside them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.certificates.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    KeyType,
    TenantSettings,
)
from apps.certificates.services.acme_options import fallback_names
from apps.certificates.services.due import certificate_renew_at
from certmate.api.fields import IntegerField

CERTMATE_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # CertMate's expiry_date, in UTC


class UtcDateTimeField(serializers.DateTimeField):
    """Times in UTC ("…Z"), as every API time is: without asking for the active time zone per value,
    which was half the time of serializing a list."""

    def default_timezone(self):
        return UTC


def listing_context(request=None) -> dict:
    """What every row of a response is judged against, read once: now and the tenant's threshold."""
    return {
        "request": request,
        "now": timezone.now(),
        "threshold_days": TenantSettings.load().renewal_threshold_days,
    }


class CertificateSerializer(serializers.Serializer):
    # --- CertMate's fields -----------------------------------------------------------------------
    domain = serializers.CharField(source="identifier", help_text="The certificate's primary name (A-label).")
    exists = serializers.SerializerMethodField(help_text="True once a version has been issued.")
    expiry_date = serializers.SerializerMethodField(
        help_text='When the current version expires, "YYYY-MM-DD HH:MM:SS" in UTC (CertMate\'s format); null '
        "before the first issuance."
    )
    days_left = serializers.SerializerMethodField(help_text="Whole days until expiry (negative once expired); null.")
    days_until_expiry = serializers.SerializerMethodField(help_text="Alias of days_left, as CertMate sends it.")
    needs_renewal = serializers.SerializerMethodField(
        help_text="True when the current version is within its renewal window (renew_before_days, or the "
        "tenant's threshold, before expiry; at the latest at half its lifetime), or earlier where its CA's "
        "suggested window (ARI) has begun."
    )
    dns_provider = serializers.CharField(
        source="dns_account.provider", allow_null=True, help_text="DNS provider of the DNS account (null: none set)."
    )
    ca_provider = serializers.SerializerMethodField(
        help_text="The CA preset the CA account points at (letsencrypt, zerossl, ...), else the account's name."
    )
    auto_renew = serializers.BooleanField(help_text="Whether the renewal sweep renews it when due.")
    san_domains = serializers.ListField(
        child=serializers.CharField(), help_text="Further names on the certificate, besides domain."
    )
    challenge_type = serializers.CharField(source="challenge", help_text="CertMate's name for challenge.")
    # --- certmate's own --------------------------------------------------------------------------
    id = IntegerField(help_text="Row id (stable; domain is what the paths take).")
    kind = serializers.ChoiceField(choices=CertificateKind.choices, help_text="server or client.")
    identifier = serializers.CharField(help_text="Same as domain (for client certificates: CN, e-mail, ...).")
    status = serializers.ChoiceField(
        choices=CertificateStatus.choices,
        help_text="pending (no version yet), active, failed (the last job failed; a current version is kept), or "
        "needs_csr (a private CA's CSR-based certificate that is due and whose profile wants a new CSR).",
    )
    key_type = serializers.ChoiceField(choices=KeyType.choices, help_text="Key algorithm and size of new versions.")
    ca_account = serializers.CharField(source="ca_account.name", allow_null=True, help_text="CA account name.")
    ca_account_id = IntegerField(allow_null=True, help_text="CA account id.")
    fallback_ca_accounts = serializers.SerializerMethodField(
        help_text="Its issuer fallback chain: CA account names tried in order after ca_account failed for a "
        "reason another CA could fix; empty: the tenant's default chain (CA accounts' fallback_position)."
    )
    dns_account = serializers.CharField(source="dns_account.name", allow_null=True, help_text="DNS account name.")
    dns_account_id = IntegerField(allow_null=True, help_text="DNS account id.")
    challenge = serializers.CharField(help_text="How the CA validates the names: dns-01 or http-01.")
    webroot = serializers.CharField(help_text="http-01: the folder the token is written into; empty: certmate answers.")
    renew_before_days = IntegerField(
        allow_null=True, help_text="Days before expiry to renew; null: the tenant's renewal threshold."
    )
    renew_at = UtcDateTimeField(
        allow_null=True, help_text="When the sweep next renews it (pushed out after failures); null before issuance."
    )
    current_version = IntegerField(
        source="current_version.number", allow_null=True, help_text="Number of the version being served."
    )
    not_before = UtcDateTimeField(
        source="current_version.not_before", allow_null=True, help_text="Start of the current version's validity."
    )
    not_after = UtcDateTimeField(
        source="current_version.not_after", allow_null=True, help_text="End of the current version's validity."
    )
    serial = serializers.CharField(
        source="current_version.serial", allow_null=True, help_text="Serial number (hex) of the current version."
    )
    fingerprint = serializers.CharField(
        source="current_version.fingerprint_sha256", allow_null=True, help_text="SHA-256 of the current version (hex)."
    )
    issuer = serializers.CharField(
        source="current_version.issuer", allow_null=True, help_text="Issuer DN of the current version."
    )
    key_algorithm = serializers.CharField(
        source="current_version.key_algorithm", allow_null=True, help_text="RSA or EC, of the current version."
    )
    key_size = IntegerField(
        source="current_version.key_size", allow_null=True, help_text="Key size in bits, of the current version."
    )
    last_error = serializers.CharField(help_text="Why the last job failed; empty after a success.")
    # --- ACME: profile and renewal information (ARI) ---------------------------------------------------
    acme_profile = serializers.CharField(help_text="The ACME profile its orders ask for; empty: the CA's default.")
    ari_window_start = UtcDateTimeField(
        allow_null=True,
        help_text="Start of the renewal window the CA suggests for the current version (ARI, RFC 9773); null: none "
        "asked for or the CA offers no ARI. renew_at lies in it, or earlier by the threshold rule.",
    )
    ari_window_end = UtcDateTimeField(allow_null=True, help_text="End of the CA's suggested renewal window; null.")
    ari_checked_at = UtcDateTimeField(allow_null=True, help_text="When the CA was last asked for the window; null.")
    # --- the private CA's (null or empty for ACME certificates) ---------------------------------------
    issued_by = serializers.SerializerMethodField(
        help_text="Who issues it: the private CA's name, or the ACME CA account's name (issuer is the DN)."
    )
    authority = serializers.CharField(
        source="authority.name", allow_null=True, help_text="The private CA that issues it; null for ACME."
    )
    profile = serializers.CharField(
        source="profile.name", allow_null=True, help_text="The private CA's profile it is issued under; null for ACME."
    )
    subject = serializers.DictField(
        source="subject_fields", child=serializers.CharField(), help_text="Private: the subject fields asked for."
    )
    alt_names = serializers.ListField(
        child=serializers.CharField(), help_text='Private: its SANs, typed ("DNS:x", "IP:x", "email:x", "URI:x").'
    )
    from_csr = serializers.SerializerMethodField(help_text="Private: signed from the requester's CSR (no key here).")
    validity_days = IntegerField(allow_null=True, help_text="Private: validity asked for; null: the profile's.")
    usage = serializers.CharField(help_text="Private: what it is for (CertMate's cert_usage).")
    notes = serializers.CharField(help_text="Private: free text.")
    created_at = UtcDateTimeField(help_text="When it was first asked for.")
    updated_at = UtcDateTimeField(help_text="Last change to its settings or status.")

    def _now(self) -> datetime:
        return self.context.get("now") or timezone.now()

    def get_exists(self, certificate: Certificate) -> bool:
        return certificate.current_version is not None

    def get_expiry_date(self, certificate: Certificate) -> str | None:
        version = certificate.current_version
        return version.not_after.astimezone(UTC).strftime(CERTMATE_DATE_FORMAT) if version else None

    def get_days_left(self, certificate: Certificate) -> int | None:
        version = certificate.current_version
        return (version.not_after - self._now()).days if version else None

    def get_days_until_expiry(self, certificate: Certificate) -> int | None:
        return self.get_days_left(certificate)

    def get_needs_renewal(self, certificate: Certificate) -> bool:
        version = certificate.current_version
        if version is None:
            return False
        threshold = self.context.get("threshold_days") or TenantSettings.load().renewal_threshold_days
        return certificate_renew_at(certificate, version, threshold, now=self._now()) <= self._now()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_issued_by(self, certificate: Certificate) -> str | None:
        issuer = certificate.issuer
        return issuer.name if issuer is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_fallback_ca_accounts(self, certificate: Certificate) -> list[str]:
        names = getattr(certificate, "fallback_account_names", None)  # certificate_list reads them along
        return list(names) if names is not None else fallback_names(certificate)

    def get_from_csr(self, certificate: Certificate) -> bool:
        return bool(certificate.csr_pem)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_ca_provider(self, certificate: Certificate) -> str | None:
        account = certificate.ca_account
        return (account.preset or account.name) if account else None


class CertMateCreatedSerializer(CertificateSerializer):
    """The answer of a synchronous create that finished: the certificate, CertMate's message, the job."""

    message = serializers.SerializerMethodField(help_text="What happened, in a sentence.")
    job_id = serializers.SerializerMethodField(help_text="The job that issued it.")

    def get_message(self, certificate: Certificate) -> str:
        return f"Certificate created successfully for {certificate.identifier}"

    def get_job_id(self, certificate: Certificate) -> int:
        return self.context["job"].pk


class VersionSerializer(serializers.Serializer):
    number = IntegerField(help_text="1 for the first issuance, then one more per renewal.")
    is_current = serializers.SerializerMethodField(help_text="True for the version being served.")
    serial = serializers.CharField(help_text="Serial number (hex).")
    not_before = UtcDateTimeField(help_text="Start of validity.")
    not_after = UtcDateTimeField(help_text="End of validity.")
    subject = serializers.CharField(help_text="Subject DN (RFC 4514).")
    issuer = serializers.CharField(help_text="Issuer DN (RFC 4514).")
    san = serializers.ListField(child=serializers.CharField(), help_text="Subject alternative names.")
    key_algorithm = serializers.CharField(help_text="RSA or EC (Ed25519, Ed448 for imported ones).")
    key_size = IntegerField(help_text="Key size in bits (curve size for EC).")
    key_usage = serializers.ListField(child=serializers.CharField(), help_text="Key usage bits set.")
    extended_key_usage = serializers.ListField(
        child=serializers.CharField(), help_text="Extended key usages (server_auth, client_auth, ...)."
    )
    fingerprint = serializers.CharField(source="fingerprint_sha256", help_text="SHA-256 fingerprint (hex).")
    ca_account = serializers.SerializerMethodField(
        help_text="ACME: the CA account whose order issued it (after an issuer fallback, not the certificate's "
        "own), by its name then; null for a private CA's or an imported version."
    )
    ca_account_id = IntegerField(
        allow_null=True, help_text="That CA account's id; null as well once the account is deleted."
    )
    revoked_at = UtcDateTimeField(allow_null=True, help_text="When it was revoked; null if not.")
    revocation_reason = serializers.CharField(
        help_text="Why it was revoked (RFC 5280: keycompromise, superseded, ..., certificatehold while on hold); "
        "empty if not."
    )
    invalidity_date = UtcDateTimeField(
        allow_null=True, help_text="Private CA: since when its key is known or suspected to be compromised; null."
    )
    created_at = UtcDateTimeField(help_text="When certmate stored it.")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_ca_account(self, version) -> str | None:
        return version.ca_account_name or None

    def get_is_current(self, version) -> bool:
        return version.pk == self.context["certificate"].current_version_id
