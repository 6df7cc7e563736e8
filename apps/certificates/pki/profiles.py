"""Profiles: what a CA may issue. ``profile_enforce`` is asked on every path (API, batch, CSR, admin,
command, renewal) before anything is signed; a refusal names the rule and the value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.certificates.models import CaKeyType, CertificateProfile, ProfileKind, SanType
from apps.certificates.pki.name_rules import allowed_by_constraints, pattern_matches
from apps.certificates.pki.names import AltName, subject_alt_name

KEY_USAGES = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
}
EXTENDED_KEY_USAGES = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
}
KEY_SIZES = {
    CaKeyType.RSA2048: ("RSA", 2048), CaKeyType.RSA3072: ("RSA", 3072), CaKeyType.RSA4096: ("RSA", 4096),
    CaKeyType.EC256: ("EC", 256), CaKeyType.EC384: ("EC", 384), CaKeyType.ED25519: ("Ed25519", 256),
}  # fmt: skip
DEFAULT_SUBJECT_COPY = ["common_name", "organization", "organizational_unit", "email"]

# The profiles every new CA starts with (tenant admins edit or add their own).
DEFAULT_PROFILES = {
    "server": {
        "description": "TLS servers (serverAuth); DNS names and IP addresses",
        "kind": ProfileKind.SERVER,
        "key_usage": ["digitalSignature", "keyEncipherment"],
        "extended_key_usage": ["serverAuth"],
        "san_types": [SanType.DNS, SanType.IP],
        "default_days": 397,
        "max_days": 825,
    },
    "client": {
        "description": "mTLS clients: people, devices, services (clientAuth)",
        "kind": ProfileKind.CLIENT,
        "key_usage": ["digitalSignature"],
        "extended_key_usage": ["clientAuth"],
        "san_types": [SanType.DNS, SanType.EMAIL, SanType.URI, SanType.IP],
        "default_days": 365,
        "max_days": 3650,
    },
    "server-and-client": {
        "description": "Services that both serve and call over mTLS",
        "kind": ProfileKind.BOTH,
        "key_usage": ["digitalSignature", "keyEncipherment"],
        "extended_key_usage": ["serverAuth", "clientAuth"],
        "san_types": [SanType.DNS, SanType.IP, SanType.URI],
        "default_days": 397,
        "max_days": 825,
    },
}


class ProfileRefused(ValidationError):
    """The request breaks its profile (or its CA's name constraints): nothing was signed."""

    def __init__(self, message: str, code: str = "profile_refused"):
        super().__init__(message, code=code)


def eku_oid(name: str) -> ObjectIdentifier:
    return EXTENDED_KEY_USAGES.get(name) or ObjectIdentifier(name)


@dataclass(frozen=True)
class Approved:
    """What will be signed: the profile's own usages, the request's subject and SANs as the profile
    lets them through, and the validity cut to the CA's own end."""

    subject: dict[str, str]
    alt_names: list[AltName]
    key_usage: list[str]
    extended_key_usage: list[str]
    not_before: datetime
    not_after: datetime


def public_key_type(key) -> tuple[str, int]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        # Only the NIST curves certmate issues for: secp256k1 or brainpoolP256r1 are 256 bits too.
        if key.curve.name not in ("secp256r1", "secp384r1"):
            return f"EC {key.curve.name}", key.curve.key_size
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    return type(key).__name__, 0


def _refuse(value, profile: CertificateProfile, rule: str) -> ProfileRefused:
    return ProfileRefused(f"{str(value)[:100]!r}: not allowed by profile {profile.name!r} ({rule})")


def profile_enforce(
    profile: CertificateProfile,
    *,
    kind: str,
    subject: dict[str, str],
    alt_names: list[AltName],
    public_key=None,
    key_type: str | None = None,
    days: int | None = None,
    from_csr: bool = False,
    now: datetime | None = None,
) -> Approved:
    """Check a request against ``profile`` (and its CA): the kind, how the key comes (server-side or a
    CSR), the key, the subject, every SAN, the validity. Raises ProfileRefused naming the first rule
    broken; nothing is signed before this passes."""
    authority = profile.authority
    if not authority.can_issue:
        why = "a root signs intermediates only" if authority.origin == "root" else f"it is {authority.state}"
        raise ProfileRefused(f"CA {authority.name!r} issues no certificates: {why}", code="ca_unavailable")
    if profile.kind != ProfileKind.BOTH and profile.kind != kind:
        raise _refuse(kind, profile, f"it issues {profile.kind} certificates only")
    if from_csr and not profile.allow_csr:
        raise _refuse("CSR", profile, "it signs no CSRs: let certmate make the key")
    if not from_csr and not profile.allow_server_key:
        raise _refuse("server-side key", profile, "the key must stay with the requester: send a CSR")
    _key_check(profile, public_key=public_key, key_type=key_type)
    subject = _subject_check(profile, subject)
    for name in alt_names:
        _alt_name_check(profile, name, kind=kind)
    _subject_names_check(profile, subject, alt_names)
    if not subject.get("common_name") and not alt_names:
        raise ProfileRefused("give a common name or at least one subject alternative name", code="invalid_subject")
    return Approved(subject, alt_names, *_usages(profile, public_key, key_type), *_validity(profile, days, now))


def _key_check(profile: CertificateProfile, *, public_key, key_type: str | None) -> None:
    allowed = profile.key_types or list(CaKeyType.values)
    if public_key is None:
        if key_type not in allowed:
            raise _refuse(key_type, profile, f"key types: {', '.join(allowed)}")
        return
    algorithm, size = public_key_type(public_key)
    sizes = [KEY_SIZES[t][1] for t in allowed if KEY_SIZES[t][0] == algorithm]
    if not sizes:
        raise _refuse(f"{algorithm} key", profile, f"key types: {', '.join(allowed)}")
    if (algorithm == "RSA" and size < min(sizes)) or (algorithm == "EC" and size not in sizes):
        raise _refuse(f"{algorithm} {size}", profile, f"key types: {', '.join(allowed)}")


def _subject_check(profile: CertificateProfile, subject: dict[str, str]) -> dict[str, str]:
    missing = [field for field in profile.subject_require if not subject.get(field)]
    if missing:
        raise ProfileRefused(
            f"profile {profile.name!r} requires the subject field(s) {', '.join(missing)}", code="profile_refused"
        )
    copy = set(profile.subject_copy or DEFAULT_SUBJECT_COPY) | set(profile.subject_require)
    return {field: value for field, value in subject.items() if field in copy}


def _alt_name_check(profile: CertificateProfile, name: AltName, *, kind: str) -> None:
    if name.type not in profile.san_types:
        allowed = ", ".join(profile.san_types) or "none"
        raise _refuse(str(name), profile, f"SAN types allowed: {allowed}")
    if kind == ProfileKind.CLIENT and name.type == SanType.DNS and name.value.startswith("*"):
        raise _refuse(str(name), profile, "a client certificate names no wildcard")
    _name_allowed(profile, name)


def _subject_names_check(profile: CertificateProfile, subject: dict[str, str], alt_names: list[AltName]) -> None:
    """A common name or e-mail in the subject that is a host name, address or e-mail is held to the same
    patterns and name constraints as a SAN (relying parties without SANs, or reading the subject, use it)."""
    values = {name.value for name in alt_names}
    for field in ("common_name", "email"):
        value = subject.get(field, "")
        name = subject_alt_name(value) if value and value not in values else None
        if name is not None:
            _name_allowed(profile, name)


def _name_allowed(profile: CertificateProfile, name: AltName) -> None:
    patterns = (profile.name_patterns or {}).get(name.type) or []
    if patterns and not any(pattern_matches(name.type, p, name.value) for p in patterns):
        raise _refuse(name.value, profile, f"allowed: {', '.join(patterns)}")
    if not allowed_by_constraints(profile.authority, name):
        raise ProfileRefused(
            f"{name.value[:100]!r}: outside the name constraints of CA {profile.authority.name!r}",
            code="profile_refused",
        )


def _usages(profile: CertificateProfile, public_key, key_type: str | None) -> tuple[list[str], list[str]]:
    algorithm = public_key_type(public_key)[0] if public_key is not None else KEY_SIZES[key_type][0]
    usages = []
    for usage in profile.key_usage:
        # RSA keys encipher; EC keys agree; Ed25519 keys only sign.
        if usage in ("keyEncipherment", "dataEncipherment") and algorithm != "RSA":
            continue
        if usage == "keyAgreement" and algorithm != "EC":
            continue
        usages.append(usage)
    return usages or ["digitalSignature"], list(profile.extended_key_usage)


def _validity(profile: CertificateProfile, days: int | None, now: datetime | None) -> tuple[datetime, datetime]:
    if days is None:
        days = profile.default_days
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ProfileRefused(f"validity {str(days)[:20]!r} days is not a positive number", code="invalid_validity")
    if days > profile.max_days:
        raise _refuse(f"{days} days", profile, f"at most {profile.max_days} days")
    now = now or timezone.now()
    not_after = min(now + timedelta(days=days), profile.authority.not_after)
    if not_after <= now:
        raise ProfileRefused(f"CA {profile.authority.name!r} has expired", code="ca_unavailable")
    return now, not_after
