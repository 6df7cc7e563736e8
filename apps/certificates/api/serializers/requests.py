"""What the API accepts: new certificates (certmate's fields and CertMate's), changes, downloads."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.certificates.acme.resolve import ca_account_resolve
from apps.certificates.acme.webroot import CHALLENGE_HELP, MAX_WEBROOT, WEBROOT_HELP
from apps.certificates.api.serializers.certmate import CertMateKeyFields
from apps.certificates.domains import MAX_NAMES, domain_clean
from apps.certificates.models import (
    CaAccount,
    CertificateKind,
    CertificateStatus,
    Challenge,
    JobOperation,
    JobStatus,
    KeyType,
)
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.services.acme_options import MAX_FALLBACKS
from apps.certificates.services.downloads import FILES, KeyFormat
from apps.certificates.services.pkcs12 import MAX_PASSWORD, Pkcs12Encryption
from certmate.api.fields import IntegerField

KEY_PEM_FILES = ("privkey.pem", "combined.pem")  # the files key_format re-encodes

ACCOUNT_HELP = "{what} account by name or id{extra}."


def clean_domain_field(value: str) -> str:
    """domains.domain_clean as a field validator: its message and code on the field."""
    try:
        return domain_clean(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages, code=exc.code) from None


class DomainField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 253)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return clean_domain_field(super().to_internal_value(data))


class AccountField(serializers.CharField):
    """A name, or an id (a JSON number works too)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, allow_blank=True, max_length=100, **kwargs)


def challenge_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=Challenge.choices, required=False, **kwargs)


def webroot_field() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=MAX_WEBROOT, help_text=WEBROOT_HELP)


def challenge_of(attrs: dict) -> dict:
    """certmate's challenge or CertMate's challenge_type (not both, unless they agree) as challenge."""
    theirs = attrs.pop("challenge_type", None)
    if theirs and attrs.get("challenge") and attrs["challenge"] != theirs:
        raise serializers.ValidationError({"challenge_type": ["give challenge or challenge_type, not both"]},
                                          code="conflict")  # fmt: skip
    if theirs:
        attrs["challenge"] = theirs
    return attrs


class AcmeProfileField(serializers.CharField):
    """A profile name; whether the CA offers it is the service's check (a 400 listing the ones it does)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, max_length=64, **kwargs)


class CaAccountChainField(serializers.ListField):
    """An issuer fallback chain: the tenant's CA accounts by name (or id, or CA preset), in order."""

    def __init__(self, **kwargs):
        child = serializers.CharField(max_length=100)
        super().__init__(child=child, required=False, max_length=MAX_FALLBACKS + 1, **kwargs)

    def to_internal_value(self, data) -> list[CaAccount]:
        names = super().to_internal_value(data)
        try:
            return [ca_account_resolve(account=name) for name in names]
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code=exc.code) from None


FALLBACK_HELP = (
    "Issuer fallback: CA account names tried in order when the order fails at ca_account for a reason another "
    f"CA could fix (unreachable, rate limited, server error, policy refusal); never after a DNS or validation "
    f"failure. At most {MAX_FALLBACKS}; [] uses the tenant's default chain (CA accounts' fallback_position)."
)


class CertificateRequestSerializer(CertMateKeyFields):
    """POST /api/certificates and /api/certificates/create. CertMate's names (dns_provider, account_id,
    ca_provider) are accepted beside certmate's (dns_account, ca_account)."""

    domain = DomainField(help_text="Primary name: example.com or *.example.com.")
    san_domains = serializers.ListField(
        child=DomainField(),
        required=False,
        max_length=MAX_NAMES - 1,
        help_text="Further names. Left out when asking again for an existing certificate: its names are kept.",
    )
    kind = serializers.ChoiceField(
        choices=CertificateKind.choices,
        default=CertificateKind.SERVER,
        help_text="server (ACME, DNS-01). Client certificates come from the private CA, not from this endpoint.",
    )
    ca_account = AccountField(
        help_text=ACCOUNT_HELP.format(what="CA", extra="; default: the tenant's default CA account")
    )
    ca_provider = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=100,
        help_text="CertMate's name for it: a CA account name, or a preset (letsencrypt, letsencrypt_staging, zerossl, "
        "google, ...) meaning the tenant's CA account at that directory.",
    )
    dns_account = AccountField(
        help_text=ACCOUNT_HELP.format(what="DNS", extra=" (within dns_provider when given); default: the default")
    )
    account_id = AccountField(help_text="CertMate's name for dns_account.")
    fallback_ca_accounts = CaAccountChainField(help_text=FALLBACK_HELP + " Left out: kept as it is.")
    dns_provider = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=50,
        help_text="DNS provider (cloudflare, route53, rfc2136, ...): without an account named, its default account.",
    )
    auto_renew = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Renew when due; default: the tenant's default."
    )
    renew_before_days = IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=365,
        help_text="Days before expiry to renew; default (null): the tenant's threshold.",
    )
    challenge = challenge_field(help_text=CHALLENGE_HELP + " Default: dns-01 (asking again: the certificate's).")
    challenge_type = challenge_field(help_text="CertMate's name for challenge.")
    webroot = webroot_field()
    acme_profile = AcmeProfileField(
        help_text="An ACME profile the CA account's directory offers (its profiles); empty: the CA's default. "
        "Left out when asking again for an existing certificate: its profile is kept."
    )

    def get_fields(self):
        fields = super().get_fields()
        # "async" is a Python keyword, so it cannot be a class attribute.
        fields["async"] = serializers.BooleanField(
            required=False,
            default=False,
            help_text="POST /api/certificates/create only: answer 202 with the job at once instead of waiting for it. "
            "POST /api/certificates always answers at once.",
        )
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("kind") == CertificateKind.CLIENT:
            raise serializers.ValidationError(
                {"kind": ["client certificates are issued by the tenant's private CA, not through ACME"]},
                code="unsupported_kind",
            )
        for ours, theirs in (("ca_account", "ca_provider"), ("dns_account", "account_id")):
            if attrs.get(ours) and attrs.get(theirs) and attrs[ours] != attrs[theirs]:
                raise serializers.ValidationError({theirs: [f"give {ours} or {theirs}, not both"]}, code="conflict")
        return challenge_of(attrs)


class CertificateUpdateSerializer(serializers.Serializer):
    """PATCH /api/certificates/{domain}: only the fields given change."""

    ca_account = AccountField(help_text=ACCOUNT_HELP.format(what="CA", extra=", or a CA preset"))
    fallback_ca_accounts = CaAccountChainField(help_text=FALLBACK_HELP)
    dns_account = AccountField(help_text=ACCOUNT_HELP.format(what="DNS", extra=" (within dns_provider when given)"))
    dns_provider = serializers.CharField(
        required=False, max_length=50, help_text="With dns_account: where to look it up; alone: its default account."
    )
    key_type = serializers.ChoiceField(choices=KeyType.choices, required=False, help_text="Key of the next versions.")
    auto_renew = serializers.BooleanField(required=False, help_text="Renew when due.")
    renew_before_days = IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=365,
        help_text="Days before expiry to renew; null: the tenant's threshold.",
    )
    challenge = challenge_field(help_text=CHALLENGE_HELP + " Leaving http-01 clears the webroot.")
    webroot = webroot_field()
    acme_profile = AcmeProfileField(
        help_text="An ACME profile the CA account's directory offers, for the next orders; empty: the CA's default."
    )


class AutoRenewSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether the renewal sweep renews it when due.")


class RenewSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False, help_text="Renew now even if not due.")


class RevokeSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[(reason, reason) for reason in (*REVOCATION_REASONS, "certificatehold")],
        required=False,
        default="unspecified",
        help_text="Why, as RFC 5280 names it (keycompromise when the private key may be known to others). "
        "certificatehold (a private CA's certificates only) suspends it until POST .../unhold lifts the hold.",
    )
    version = IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="An earlier version's number (default: current)."
    )
    invalidity_date = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Private CA only: when the key was (or may have been) compromised, ISO 8601 (UTC unless it says "
        "otherwise); not in the future, not before the certificate's notBefore. In the CRL entry and OCSP.",
    )


class UnholdSerializer(serializers.Serializer):
    version = IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="An earlier version's number (default: current)."
    )


class CertificateFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CertificateKind.choices, required=False, help_text="Only this kind.")
    status = serializers.ChoiceField(choices=CertificateStatus.choices, required=False, help_text="Only this status.")
    expiring_within = IntegerField(
        required=False,
        min_value=0,
        max_value=36500,
        help_text="Only those whose current version expires within this many days.",
    )
    search = serializers.CharField(
        required=False, max_length=253, help_text="Only those whose domain or a SAN contains this text."
    )


class JobFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False, help_text="Only jobs in this status.")
    operation = serializers.ChoiceField(choices=JobOperation.choices, required=False, help_text="Only this operation.")
    domain = DomainField(required=False, help_text="Only the jobs of this certificate.")


class DownloadSerializer(serializers.Serializer):
    """GET query parameters or a POST body (prefer the body, or the X-PFX-Password header, for the PKCS#12
    password: query strings end up in access logs)."""

    format = serializers.ChoiceField(
        choices=[("zip", "zip"), ("json", "json")],
        required=False,
        default="zip",
        help_text="zip (default): cert.pem, chain.pem, fullchain.pem, privkey.pem. json: the PEMs inline.",
    )
    file = serializers.ChoiceField(
        choices=[(name, name) for name in FILES], required=False, help_text="One file instead of the archive."
    )
    key_format = serializers.ChoiceField(
        choices=KeyFormat.choices,
        required=False,
        help_text="pkcs1: traditional OpenSSL (RSA PRIVATE KEY / SEC1 EC PRIVATE KEY); pkcs8: PRIVATE KEY. "
        "Default: as stored (PKCS#8). With format=json, pkcs1 adds private_key_pkcs1_pem.",
    )
    include_private = serializers.BooleanField(
        required=False, default=True, help_text="zip only: false leaves the private key out (viewers may download it)."
    )
    version = IntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text="An earlier version's number.")
    kind = serializers.ChoiceField(
        choices=CertificateKind.choices,
        required=False,
        default=CertificateKind.SERVER,
        help_text="client: the path names a client certificate (its name, e-mail or device id) instead of a domain.",
    )
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_PASSWORD,
        trim_whitespace=False,
        help_text="cert.pfx only, and required for it: the PKCS#12 password (never an unencrypted file).",
    )
    pkcs12_encryption = serializers.ChoiceField(
        choices=Pkcs12Encryption.choices,
        required=False,
        help_text="cert.pfx only. modern (default): AES-256-CBC with PBES2/PBKDF2-SHA256 and a SHA-256 MAC. "
        "legacy: 3DES with SHA-1, for Windows, macOS and Android importers that predate PBES2.",
    )
    legacy = serializers.BooleanField(required=False, help_text="cert.pfx only: true is pkcs12_encryption=legacy.")

    def validate(self, attrs):
        file, key_format = attrs.get("file"), attrs.get("key_format")
        self._pkcs12_encryption(attrs, file)
        if file and self.initial_data.get("format") == "json":
            raise serializers.ValidationError({"file": ["give file or format=json, not both"]}, code="conflict")
        if key_format and file and file not in KEY_PEM_FILES:
            raise serializers.ValidationError(
                {"key_format": [f"{file} holds no PEM private key: key_format applies to privkey.pem, combined.pem"]},
                code="invalid",
            )
        if attrs.get("password") and file != "cert.pfx":
            raise serializers.ValidationError({"password": ["a password applies to file=cert.pfx only"]})
        return attrs

    @staticmethod
    def _pkcs12_encryption(attrs: dict, file: str | None) -> None:
        """legacy=true and pkcs12_encryption=legacy say the same; both fold into pkcs12_encryption."""
        legacy, chosen = attrs.pop("legacy", None), attrs.get("pkcs12_encryption")
        if (legacy is not None or chosen) and file != "cert.pfx":
            field = "legacy" if legacy is not None else "pkcs12_encryption"
            raise serializers.ValidationError({field: ["applies to file=cert.pfx only"]}, code="invalid")
        if legacy is not None and chosen and (chosen == Pkcs12Encryption.LEGACY) != legacy:
            raise serializers.ValidationError(
                {"legacy": [f"contradicts pkcs12_encryption={chosen}: give one of them"]}, code="invalid"
            )
        if legacy:
            attrs["pkcs12_encryption"] = Pkcs12Encryption.LEGACY


class DownloadQuerySerializer(DownloadSerializer):
    """The GET query string: everything but the password, which never goes in a URL."""

    password = None
