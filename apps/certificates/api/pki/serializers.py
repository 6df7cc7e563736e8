"""How CAs and profiles read in the API, and what their endpoints accept. Types and sizes are bounded
here; the services check every value again (and alone know the rules across fields)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.certificates.api.serializers.certificates import UtcDateTimeField
from apps.certificates.models import CaKeyType, CaOrigin, CaState, CertificateAuthority, ProfileKind, SanType
from apps.certificates.pki.crl_refresh import MAX_VALIDITY_HOURS, MIN_VALIDITY_HOURS
from apps.certificates.pki.names import SUBJECT_FIELDS
from apps.certificates.pki.profile_services import MAX_DAYS, MAX_PATTERNS
from apps.certificates.pki.profiles import KEY_USAGES
from apps.certificates.pki.services import MAX_CONSTRAINTS, MAX_ROOT_DAYS
from certmate.api.fields import IntegerField

MAX_PEM = 64 * 1024  # a CA certificate, its key, or a chain of a few of them


def _names(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=253), max_length=MAX_CONSTRAINTS, **kwargs)


class NameConstraintsSerializer(serializers.Serializer):
    permitted_dns = _names(required=False, help_text="DNS names below which it may issue (.example.com: below only).")
    excluded_dns = _names(required=False, help_text="DNS names it may never issue for.")
    permitted_ip = _names(required=False, help_text="IP networks (CIDR) it may issue for.")
    excluded_ip = _names(required=False, help_text="IP networks it may never issue for.")
    permitted_email = _names(required=False, help_text="E-mail domains or addresses it may issue for.")
    excluded_email = _names(required=False, help_text="E-mail domains or addresses it may never issue for.")


class CaSerializer(serializers.Serializer):
    """A CA as everyone who may read it sees it: never its private key."""

    id = IntegerField(help_text="Row id (the paths take the name or the id).")
    name = serializers.CharField(help_text="The CA's name, unique in the tenant.")
    origin = serializers.ChoiceField(choices=CaOrigin.choices, help_text="How certmate got it.")
    state = serializers.ChoiceField(
        choices=CaState.choices, help_text="pending (waits for its signed certificate), active, disabled, retired."
    )
    can_issue = serializers.BooleanField(help_text="Whether it issues certificates now (active intermediates only).")
    is_default = serializers.BooleanField(help_text="The tenant's default CA (the client-certificate endpoints').")
    key_type = serializers.ChoiceField(choices=CaKeyType.choices, help_text="Its key's algorithm and size.")
    subject = serializers.CharField(help_text="Subject DN (RFC 4514).")
    serial = serializers.CharField(help_text="Serial number of its certificate (hex); empty while pending.")
    not_before = UtcDateTimeField(allow_null=True, help_text="Start of its certificate's validity.")
    not_after = UtcDateTimeField(allow_null=True, help_text="End of its certificate's validity.")
    path_length = IntegerField(allow_null=True, help_text="Basic Constraints path length (null: unlimited).")
    name_constraints = NameConstraintsSerializer(help_text="Names it may (not) issue for; empty: no constraints.")
    fingerprint_sha256 = serializers.CharField(allow_null=True, help_text="SHA-256 of its certificate (hex).")
    parent = serializers.CharField(source="parent.name", allow_null=True, help_text="The CA that signed it, if here.")
    certificate_pem = serializers.CharField(help_text="Its certificate (PEM); empty while pending.")
    chain_pem = serializers.CharField(help_text="The issuers above it, nearest first, up to the root (PEM).")
    csr_pem = serializers.SerializerMethodField(help_text="Pending only: the CSR to have signed (PEM); else null.")
    profiles = serializers.SerializerMethodField(help_text="Names of its profiles.")
    revoked_at = UtcDateTimeField(allow_null=True, help_text="When its parent revoked it (in the parent's CRL); null.")
    revocation_reason = serializers.CharField(help_text="Why it was revoked (RFC 5280); empty if not.")
    created_at = UtcDateTimeField(help_text="When it was made or imported.")
    crl_validity_hours = IntegerField(help_text="How long its CRLs are valid (hours); a new one at half of it.")
    crl_number = IntegerField(help_text="The number of its newest CRL (0: none yet).")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_csr_pem(self, authority: CertificateAuthority) -> str | None:
        return (authority.csr_pem or None) if authority.state == CaState.PENDING else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_profiles(self, authority: CertificateAuthority) -> list[str]:
        return [profile.name for profile in authority.profiles.all()]


class CaUpdateSerializer(serializers.Serializer):
    crl_validity_hours = IntegerField(
        min_value=MIN_VALIDITY_HOURS, max_value=MAX_VALIDITY_HOURS,
        help_text="How long its CRLs are valid, 1 to 8760 hours (beat signs a new one at half of it).",
    )  # fmt: skip


class CaHierarchySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, help_text='The intermediate\'s name; the root is "<name>-root".')
    common_name = serializers.CharField(max_length=64, help_text='Subject CN (the root\'s gets " Root").')
    organization = serializers.CharField(max_length=64, required=False, default="", allow_blank=True,
                                         help_text="Subject O of both.")  # fmt: skip
    key_type = serializers.ChoiceField(choices=CaKeyType.choices, default=CaKeyType.EC384,
                                       help_text="Key of both CAs.")  # fmt: skip
    root_days = IntegerField(min_value=1, max_value=MAX_ROOT_DAYS, default=3650, help_text="Root validity.")
    intermediate_days = IntegerField(min_value=1, max_value=MAX_ROOT_DAYS, default=1825,
                                     help_text="Intermediate validity (within the root's).")  # fmt: skip
    name_constraints = NameConstraintsSerializer(required=False, help_text="On the intermediate.")


class CaImportSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, help_text="The CA's name here.")
    certificate_pem = serializers.CharField(max_length=MAX_PEM, help_text="The CA certificate (PEM).")
    private_key_pem = serializers.CharField(max_length=MAX_PEM, write_only=True, trim_whitespace=False,
                                            help_text="Its private key (PEM; never returned).")  # fmt: skip
    passphrase = serializers.CharField(
        max_length=1024, required=False, allow_blank=True, write_only=True, trim_whitespace=False,
        help_text="The key's passphrase, if encrypted.",
    )  # fmt: skip
    chain_pem = serializers.CharField(max_length=MAX_PEM, required=False, default="", allow_blank=True,
                                      help_text="Its issuers above it, nearest first (PEM).")  # fmt: skip


class CaExternalSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, help_text="The intermediate's name.")
    common_name = serializers.CharField(max_length=64, help_text="Subject CN the CSR asks for.")
    organization = serializers.CharField(max_length=64, required=False, default="", allow_blank=True,
                                         help_text="Subject O the CSR asks for.")  # fmt: skip
    key_type = serializers.ChoiceField(choices=CaKeyType.choices, default=CaKeyType.EC384,
                                       help_text="Key certmate makes (it never leaves).")  # fmt: skip
    name_constraints = NameConstraintsSerializer(required=False, help_text="Asked for in the CSR.")


class CaUploadSerializer(serializers.Serializer):
    certificate_pem = serializers.CharField(max_length=MAX_PEM, help_text="The signed certificate (PEM).")
    chain_pem = serializers.CharField(max_length=MAX_PEM, required=False, default="", allow_blank=True,
                                      help_text="The issuers above it, nearest first (PEM).")  # fmt: skip


def _choices(values, help_text: str, **kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=list(values)), required=False,
                                 help_text=help_text, **kwargs)  # fmt: skip


class ProfileSerializer(serializers.Serializer):
    """A profile as it reads and as admins write it: PATCH takes any subset (the name stays)."""

    name = serializers.CharField(max_length=80, help_text="Unique per CA: letters, digits, '.', '_', '-'.")
    authority = serializers.CharField(source="authority.name", read_only=True, help_text="Its CA.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="What it is for.")
    kind = serializers.ChoiceField(choices=ProfileKind.choices, required=False, help_text="What it issues.")
    key_usage = _choices(KEY_USAGES, "Key usages (RFC 5280 names; RSA-only ones are dropped for EC keys).")
    extended_key_usage = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, max_length=20,
        help_text="serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, or dotted OIDs.",
    )  # fmt: skip
    san_types = _choices(SanType.values, "SAN types a request may carry.")
    name_patterns = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=255), max_length=MAX_PATTERNS),
        required=False,
        help_text='Per SAN type, what names must match: {"dns": ["*.internal.example"], "email": ["@example.com"], '
        '"uri": ["spiffe://example.org/"], "ip": ["10.0.0.0/8"]}; none: any.',
    )
    key_types = _choices(CaKeyType.values, "Key types allowed (none: all); RSA sizes are minimums for CSRs.")
    default_key_type = serializers.ChoiceField(choices=CaKeyType.choices, required=False,
                                               help_text="Key made server-side when a request names none.")  # fmt: skip
    default_days = IntegerField(min_value=1, max_value=MAX_DAYS, required=False, help_text="Validity by default.")
    max_days = IntegerField(min_value=1, max_value=MAX_DAYS, required=False, help_text="Longest validity allowed.")
    allow_server_key = serializers.BooleanField(required=False, help_text="certmate may make the key.")
    allow_csr = serializers.BooleanField(required=False, help_text="It signs CSRs (the key stays with the requester).")
    allow_csr_resign = serializers.BooleanField(
        required=False, help_text="Renewals re-sign a CSR's public key; else they need a new CSR."
    )
    subject_copy = _choices(SUBJECT_FIELDS, "Subject fields taken from a request (none: CN, O, OU, e-mail).")
    subject_require = _choices(SUBJECT_FIELDS, "Subject fields a request must give.")
    created_at = UtcDateTimeField(read_only=True, help_text="When it was made.")
    updated_at = UtcDateTimeField(read_only=True, help_text="Last change.")


class ProfileUpdateSerializer(ProfileSerializer):
    name = None
