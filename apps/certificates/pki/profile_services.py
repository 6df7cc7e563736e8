"""Creating and changing profiles: every field a tenant admin gives is checked and bounded; each write
records an audit event in the same transaction."""

from __future__ import annotations

import ipaddress
import re

from cryptography.x509.oid import ObjectIdentifier
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.certificates.models import CaKeyType, CertificateAuthority, CertificateProfile, ProfileKind, SanType
from apps.certificates.pki.names import SUBJECT_FIELDS, san_value_clean
from apps.certificates.pki.profiles import DEFAULT_PROFILES, EXTENDED_KEY_USAGES, KEY_USAGES
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record

PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
MAX_PATTERNS = 50
MAX_DAYS = 3650
MAX_CUSTOM_EKUS = 10
FIELDS = (
    "description", "kind", "key_usage", "extended_key_usage", "san_types", "name_patterns", "key_types",
    "default_key_type", "default_days", "max_days", "allow_server_key", "allow_csr", "allow_csr_resign",
    "subject_copy", "subject_require",
)  # fmt: skip


def _list_of(value, what: str, allowed=None, *, limit: int = 20) -> list[str]:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or len(value) > limit:
        raise ValidationError({what: f"give a list of at most {limit} values"}, code="invalid")
    out = []
    for item in value:
        if not isinstance(item, str) or (allowed is not None and item not in allowed):
            choices = f" (use {', '.join(allowed)})" if allowed is not None else ""
            raise ValidationError({what: f"{str(item)[:60]!r} is not allowed{choices}"}, code="invalid")
        if item not in out:
            out.append(item)
    return out


def _eku_list(value) -> list[str]:
    items = _list_of(value, "extended_key_usage", limit=len(EXTENDED_KEY_USAGES) + MAX_CUSTOM_EKUS)
    for item in items:
        if item in EXTENDED_KEY_USAGES:
            continue
        try:
            if not re.fullmatch(r"[0-2](\.\d{1,9}){1,20}", item):
                raise ValueError
            ObjectIdentifier(item)
        except ValueError:
            raise ValidationError(
                {"extended_key_usage": f"{item[:60]!r} is neither {', '.join(EXTENDED_KEY_USAGES)} nor a dotted OID"},
                code="invalid",
            ) from None
    return items


def _pattern_clean(san_type: str, pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > 255:
        raise ValidationError({"name_patterns": f"{str(pattern)[:60]!r} is not a pattern"}, code="invalid")
    pattern = pattern.strip()
    try:
        if san_type == SanType.DNS:
            # In the form names are matched in (lowercase A-labels): "*.bücher.example" -> "*.xn--bcher-kva.example"
            wildcard = pattern.startswith("*.")
            return ("*." if wildcard else "") + san_value_clean(SanType.DNS, pattern[2:] if wildcard else pattern)
        if san_type == SanType.EMAIL:
            if pattern.startswith("@"):
                return "@" + san_value_clean(SanType.DNS, pattern[1:])
            return san_value_clean(SanType.EMAIL, pattern)
        if san_type == SanType.IP:
            return str(ipaddress.ip_network(pattern, strict=False))
        return san_value_clean(SanType.URI, pattern)
    except (ValidationError, ValueError):
        raise ValidationError(
            {"name_patterns": f"{pattern[:60]!r} is not a valid {san_type} pattern"}, code="invalid"
        ) from None


def _patterns(value) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ValidationError({"name_patterns": "give an object of SAN type -> list of patterns"}, code="invalid")
    unknown = set(value) - set(SanType.values)
    if unknown:
        raise ValidationError(
            {"name_patterns": f"unknown SAN types {', '.join(sorted(map(str, unknown)))[:80]}"}, code="invalid"
        )
    return {
        san_type: [_pattern_clean(san_type, p) for p in _list_of(patterns, "name_patterns", limit=MAX_PATTERNS)]
        for san_type, patterns in value.items()
        if patterns
    }


def _days(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValidationError({what: f"{str(value)[:20]!r}: use 1 to {MAX_DAYS} days"}, code="invalid")
    return value


def profile_clean(values: dict) -> dict:
    """The profile's fields, each checked; raises ValidationError naming the field."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(f"unknown profile fields: {', '.join(sorted(map(str, unknown)))[:200]}", code="invalid")
    cleaners = {
        "description": lambda v: _text(v),
        "kind": lambda v: _choice(v, "kind", ProfileKind.values),
        "key_usage": lambda v: _list_of(v, "key_usage", list(KEY_USAGES)),
        "extended_key_usage": _eku_list,
        "san_types": lambda v: _list_of(v, "san_types", SanType.values),
        "name_patterns": _patterns,
        "key_types": lambda v: _list_of(v, "key_types", CaKeyType.values),
        "default_key_type": lambda v: _choice(v, "default_key_type", CaKeyType.values),
        "default_days": lambda v: _days(v, "default_days"),
        "max_days": lambda v: _days(v, "max_days"),
        "allow_server_key": lambda v: _flag(v, "allow_server_key"),
        "allow_csr": lambda v: _flag(v, "allow_csr"),
        "allow_csr_resign": lambda v: _flag(v, "allow_csr_resign"),
        "subject_copy": lambda v: _list_of(v, "subject_copy", list(SUBJECT_FIELDS)),
        "subject_require": lambda v: _list_of(v, "subject_require", list(SUBJECT_FIELDS)),
    }
    return {name: cleaners[name](value) for name, value in values.items()}


def _text(value) -> str:
    if not isinstance(value, str) or len(value) > 200 or re.search(r"[\x00-\x1f\x7f]", value):
        raise ValidationError({"description": "at most 200 printable characters"}, code="invalid")
    return value.strip()


def _choice(value, what: str, choices) -> str:
    if value not in choices:
        raise ValidationError({what: f"{str(value)[:30]!r} is not one of {', '.join(choices)}"}, code="invalid")
    return value


def _flag(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({what: "true or false"}, code="invalid")
    return value


def profile_coherent(profile: CertificateProfile) -> None:
    """Rules across fields, checked on the profile as it would be saved."""
    if profile.default_days > profile.max_days:
        raise ValidationError({"default_days": "must not exceed max_days"}, code="invalid")
    if profile.key_types and profile.default_key_type not in profile.key_types:
        raise ValidationError({"default_key_type": "must be one of the profile's key_types"}, code="invalid")
    if not (profile.allow_server_key or profile.allow_csr):
        raise ValidationError("allow server-side keys, CSRs, or both", code="invalid")
    if set(profile.subject_require) - set(profile.subject_copy or SUBJECT_FIELDS):
        raise ValidationError({"subject_require": "a required field must also be copied"}, code="invalid")


def _audited(profile: CertificateProfile) -> dict:
    return {"name": profile.name, **{field: getattr(profile, field) for field in FIELDS}}


def profile_create(*, authority: CertificateAuthority, name: str, actor: Actor, **values) -> CertificateProfile:
    if not isinstance(name, str) or not PROFILE_NAME.fullmatch(name):
        raise ValidationError({"name": "use 1 to 80 letters, digits, '.', '_' or '-', starting with one"})
    profile = CertificateProfile(authority=authority, name=name, **profile_clean(values))
    profile_coherent(profile)
    try:
        with transaction.atomic():
            profile.save()
            audit_record(
                actor=actor,
                action="certificate_profile.created",
                target=profile,
                changes=audit_changes({}, _audited(profile)),
            )
    except IntegrityError:
        raise ValidationError(
            f"CA {authority.name!r} already has a profile named {name!r}", code="name_taken"
        ) from None
    return profile


def profile_update(*, profile: CertificateProfile, actor: Actor, **values) -> CertificateProfile:
    """Change a profile; what it issues from now on follows it (renewals included)."""
    cleaned = profile_clean(values)
    with transaction.atomic():
        profile = CertificateProfile.objects.select_for_update().select_related("authority").get(pk=profile.pk)
        before = _audited(profile)
        for field, value in cleaned.items():
            setattr(profile, field, value)
        profile_coherent(profile)
        changes = audit_changes(before, _audited(profile))
        if changes:
            profile.save()
            audit_record(actor=actor, action="certificate_profile.updated", target=profile, changes=changes)
    return profile


def profile_delete(*, profile: CertificateProfile, actor: Actor) -> None:
    """Delete a profile no certificate uses (one in use is refused: its renewals follow it)."""
    with transaction.atomic():
        profile = CertificateProfile.objects.select_for_update().get(pk=profile.pk)
        used = profile.certificates.count()
        if used:
            raise ValidationError(
                f"profile {profile.name!r} is used by {used} certificate(s): change or delete them first",
                code="in_use",
            )
        before = _audited(profile)
        audit_record(actor=actor, action="certificate_profile.deleted", target=profile,
                     changes=audit_changes(before, {}))  # fmt: skip
        profile.delete()


def profiles_default_create(*, authority: CertificateAuthority, actor: Actor) -> list[CertificateProfile]:
    """The profiles a new issuing CA starts with: server, client, server-and-client."""
    return [
        profile_create(authority=authority, name=name, actor=actor, **values)
        for name, values in DEFAULT_PROFILES.items()
    ]
