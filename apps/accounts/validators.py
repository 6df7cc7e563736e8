"""Checks on identifiers that end up in schema names, hostnames and paths."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError

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
