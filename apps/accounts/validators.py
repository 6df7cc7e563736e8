"""Checks on identifiers that end up in schema names, hostnames and paths."""

from __future__ import annotations

import base64
import binascii
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

SLUG_RE = re.compile(r"[a-z0-9_]{1,63}")
RESERVED_SLUGS = frozenset({"public", "information_schema", "default", "template", "template0", "template1"})
# RFC 1123 labels, lowercase; at least one label; 253 characters at most.
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def validate_tenant_slug(slug: str) -> None:
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise ValidationError(
            f"tenant slug {slug!r} is invalid: use 1-63 lowercase letters, digits or underscores",
            code="invalid_slug",
        )
    if slug in RESERVED_SLUGS or slug == settings.TENANT_BASE_SCHEMA:
        raise ValidationError(f"tenant slug {slug!r} is reserved", code="reserved_slug")
    if slug.startswith("certmate_"):
        raise ValidationError(
            f"tenant slug {slug!r} is reserved: names starting with certmate_ are internal", code="reserved_slug"
        )
    if slug.startswith("pg_"):
        raise ValidationError(
            f"tenant slug {slug!r} is reserved: names starting with pg_ belong to PostgreSQL", code="reserved_slug"
        )


def validate_hostname(hostname: str) -> None:
    """A bare lowercase hostname (no port, scheme or path), as a tenant's domain."""
    labels = hostname.split(".") if isinstance(hostname, str) else []
    if (
        not labels
        or len(hostname) > 253
        or hostname != hostname.lower()
        or not all(_LABEL_RE.fullmatch(label) for label in labels)
    ):
        raise ValidationError(
            f"domain {hostname!r} is not a valid hostname: use lowercase letters, digits, dashes and dots, "
            "without scheme, port or path",
            code="invalid_domain",
        )


# External account binding: the key id is the CA's token for the account, the HMAC key base64url (RFC 8555
# section 7.3.4). Both end up in certbot's configuration, so nothing else may pass.
EAB_KID_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
EAB_HMAC_RE = re.compile(r"[A-Za-z0-9_-]{22,512}={0,2}")
MIN_EAB_HMAC_BYTES = 16


def validate_eab_kid(value: str) -> None:
    if value and not (isinstance(value, str) and EAB_KID_RE.fullmatch(value)):
        raise ValidationError(
            "the EAB key id must be 1-256 letters, digits, '-' or '_' (as the CA gave it)", code="invalid_eab"
        )


def validate_eab_hmac_key(value: str) -> None:
    if not value:
        return
    problem = "the EAB HMAC key must be base64url text (as the CA gave it) of at least 16 bytes"
    if not (isinstance(value, str) and EAB_HMAC_RE.fullmatch(value)):
        raise ValidationError(problem, code="invalid_eab")
    try:
        decoded = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError(problem, code="invalid_eab") from None
    if len(decoded) < MIN_EAB_HMAC_BYTES:
        raise ValidationError(problem, code="invalid_eab")


# What certbot and ACME CAs take as a contact: a plain ASCII address whose local part does not start
# with '-' (certbot would read it as an option) or '.', no quoted parts, no ',' (certbot splits on it).
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9_+=%][A-Za-z0-9._+=%-]{0,63}")


def validate_contact_email(value: str) -> None:
    """Every e-mail address a tenant types (users, CA accounts, settings): Django's check, then certbot's."""
    validate_email(value)
    local = value.rpartition("@")[0]
    if not value.isascii():
        raise ValidationError("use an ASCII e-mail address (certbot and ACME CAs take no other)", code="invalid_email")
    if not _EMAIL_LOCAL_RE.fullmatch(local) or ".." in local or local.endswith("."):
        raise ValidationError(
            "certbot takes no e-mail address starting with '-' or '.', or with quotes, commas or '..' before the '@'",
            code="invalid_email",
        )
