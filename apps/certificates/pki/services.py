"""Creating a tenant's certificate authorities. Every value a tenant gives is checked and bounded
before anything is generated or signed; each CA made records an audit event in the same transaction."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from cryptography import x509
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.certificates.pki.build import NameConstraints, ca_certificate_build, subject_name
from apps.certificates.pki.keys import key_generate, key_pem
from apps.certificates.pki.material import certificate_fields
from apps.certificates.pki.models import CaKeyType, CaOrigin, CertificateAuthority
from apps.certificates.pki.profile_services import profiles_default_create
from apps.certificates.pki.public_urls import revocation_extensions
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
ROOT_SUFFIX = "-root"
MAX_SUBJECT_LENGTH = 64  # ub-common-name and ub-organization-name (RFC 5280)
MAX_ROOT_DAYS = 30 * 365
MAX_CONSTRAINTS = 50
_DNS_CONSTRAINT = re.compile(r"\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
AUDITED = (
    "name", "origin", "state", "key_type", "subject", "serial", "not_after", "path_length", "name_constraints",
    "fingerprint_sha256",
)  # fmt: skip


def subject_text_clean(value: str, what: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({what: f"{what} is required"}, code="required")
    if len(value) > MAX_SUBJECT_LENGTH or _CONTROL.search(value):
        raise ValidationError(
            {what: f"{what} must be at most {MAX_SUBJECT_LENGTH} printable characters"}, code="invalid"
        )
    return value


def _bounded_days(days: int, what: str, maximum: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= maximum:
        raise ValidationError(
            {what: f"{what}={str(days)[:20]!r} is out of range: use 1 to {maximum} days"}, code="invalid"
        )
    return days


def _constraint_list(values: Iterable[str], what: str, check) -> tuple[str, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, list | tuple):
        raise ValidationError({what: "give a list of names"}, code="invalid")
    values = tuple(values)
    if len(values) > MAX_CONSTRAINTS:
        raise ValidationError({what: f"at most {MAX_CONSTRAINTS} entries"}, code="invalid")
    cleaned = []
    for value in values:
        text = str(value).strip().lower()
        if not check(text):
            raise ValidationError({what: f"{str(value)[:100]!r} is not a valid {what.split('_', 1)[1]} constraint"})
        cleaned.append(text)
    return tuple(cleaned)


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return False
    return True


def name_constraints_clean(**given: Iterable[str]) -> NameConstraints:
    """Name constraints as an intermediate carries them: DNS names (a leading dot for subdomains only),
    IP networks in CIDR form, e-mail domains (``example.com``) or addresses."""
    checks = {
        "dns": lambda t: len(t) <= 253 and bool(_DNS_CONSTRAINT.fullmatch(t)),
        "ip": _is_network,
        "email": lambda t: len(t) <= 254 and bool(re.fullmatch(r"([^@\s]+@)?" + _DNS_CONSTRAINT.pattern, t)),
    }
    unknown = set(given) - {f"{side}_{kind}" for side in ("permitted", "excluded") for kind in checks}
    if unknown:
        raise ValidationError(f"unknown name constraints: {', '.join(sorted(unknown))}", code="invalid")
    return NameConstraints(
        **{name: _constraint_list(values, name, checks[name.split("_", 1)[1]]) for name, values in given.items()}
    )


def ca_store(
    *,
    name: str,
    origin: str,
    key_type: str,
    key,
    certificate: x509.Certificate,
    actor: Actor,
    parent: CertificateAuthority | None = None,
    constraints: NameConstraints | None = None,
    chain_pem: str = "",
    action: str = "certificate_authority.created",
) -> CertificateAuthority:
    """Store a CA with its certificate and key (encrypted by the field) and audit it; the caller holds
    the transaction (and ``ca_table_lock``) and has checked the name is free."""
    authority = CertificateAuthority.objects.create(
        name=name,
        origin=origin,
        parent=parent,
        key_type=key_type,
        private_key=key_pem(key),
        chain_pem=chain_pem,
        name_constraints=constraints.as_dict() if constraints else {},
        **certificate_fields(certificate),
    )
    ca_audit(authority, action=action, before={}, actor=actor)
    return authority


def ca_audit(authority: CertificateAuthority, *, action: str, before: dict, actor: Actor) -> None:
    """One audit event for a CA's change: the audited fields that changed (never its key)."""
    audit_record(actor=actor, action=action, target=authority, changes=audit_changes(before, ca_snapshot(authority)))


def ca_snapshot(authority: CertificateAuthority) -> dict:
    return {field: getattr(authority, field) for field in AUDITED}


def ca_name_clean(name) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValidationError({"name": "use 1 to 80 letters, digits, '.', '_' or '-', starting with one"})
    return name


def ca_key_type_clean(key_type) -> str:
    if key_type not in CaKeyType.values:
        raise ValidationError({"key_type": f"{str(key_type)[:20]!r} is not one of {', '.join(CaKeyType.values)}"})
    return key_type


def ca_names_free(*names: str) -> None:
    taken = CertificateAuthority.objects.filter(name__in=names).values_list("name", flat=True)
    if taken:
        raise ValidationError(f"a CA named {next(iter(taken))!r} already exists", code="name_taken")


def ca_table_lock() -> None:
    """Serialise CA creations and default changes (inside a transaction): two requests for one name or
    for the default cannot both pass their checks (no 500 from a unique index)."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE certificates_certificateauthority IN SHARE ROW EXCLUSIVE MODE")


def ca_hierarchy_create(
    *,
    name: str,
    common_name: str,
    actor: Actor,
    organization: str = "",
    key_type: str = CaKeyType.EC384,
    root_days: int = 3650,
    intermediate_days: int = 1825,
    name_constraints: dict[str, Iterable[str]] | None = None,
) -> tuple[CertificateAuthority, CertificateAuthority]:
    """A root ("<name>-root") and an intermediate ("<name>") signed by it. Certificates are issued by
    the intermediate only (path length 0); the root's key signs intermediates and the root's CRL."""
    name = ca_name_clean(name)
    key_type = ca_key_type_clean(key_type)
    common_name = subject_text_clean(common_name, "common_name", required=True)
    organization = subject_text_clean(organization, "organization", required=False)
    root_days = _bounded_days(root_days, "root_days", MAX_ROOT_DAYS)
    intermediate_days = _bounded_days(intermediate_days, "intermediate_days", root_days)
    constraints = name_constraints_clean(**(name_constraints or {}))
    ca_names_free(name, name + ROOT_SUFFIX)
    # Keys and certificates are made before the transaction: an RSA 4096 key takes a while.
    root_key, key = key_generate(key_type), key_generate(key_type)
    root_certificate = ca_certificate_build(
        subject=subject_name(f"{common_name} Root", organization), key=root_key, days=root_days, path_length=1
    )
    certificate = ca_certificate_build(
        subject=subject_name(common_name, organization), key=key, days=intermediate_days, path_length=0,
        issuer=root_certificate, issuer_key=root_key, constraints=constraints,
        extensions=revocation_extensions(CertificateAuthority(name=name + ROOT_SUFFIX), ocsp=False),
    )  # fmt: skip
    with transaction.atomic():
        ca_table_lock()  # then again: two requests for one name cannot both pass
        ca_names_free(name, name + ROOT_SUFFIX)
        root = ca_store(name=name + ROOT_SUFFIX, origin=CaOrigin.ROOT, key_type=key_type, key=root_key,
                        certificate=root_certificate, actor=actor)  # fmt: skip
        intermediate = ca_store(name=name, origin=CaOrigin.INTERMEDIATE, key_type=key_type, key=key,
                                certificate=certificate, parent=root, constraints=constraints, actor=actor,
                                chain_pem=root.certificate_pem)  # fmt: skip
        profiles_default_create(authority=intermediate, actor=actor)
    return root, intermediate
