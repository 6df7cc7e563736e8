"""HTTP-01 webroot mode: which folders a tenant may name for its tokens. The platform lists the roots
(CERTMATE_WEBROOT_ROOTS, "{tenant}" standing for the tenant's slug); a tenant's webroot is an absolute
path inside one of them, written without "..", "." or doubled slashes, so what is checked is what is
written to."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_WEBROOT = 500
# Plain path segments: letters, digits, dot, dash, underscore (no spaces, no control characters).
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def webroot_roots(tenant_slug: str) -> list[PurePosixPath]:
    return [PurePosixPath(root.replace("{tenant}", tenant_slug)) for root in settings.CERTMATE_WEBROOT_ROOTS]


def webroot_clean(value: str, *, tenant_slug: str) -> str:
    """The webroot as stored, or ValidationError (code ``invalid_webroot``) saying what is allowed."""
    roots = webroot_roots(tenant_slug)
    if not roots:
        raise ValidationError(
            "webroot mode is off on this platform (CERTMATE_WEBROOT_ROOTS is empty): leave webroot empty and "
            "point the names' port 80 at certmate, or use dns-01",
            code="invalid_webroot",
        )
    allowed = ", ".join(str(root) for root in roots)
    if not isinstance(value, str) or len(value) > MAX_WEBROOT or not value.startswith("/"):
        raise ValidationError(f"webroot must be an absolute folder under {allowed}", code="invalid_webroot")
    segments = value.rstrip("/").split("/")[1:]
    if not segments or not all(_SEGMENT.fullmatch(segment) and segment not in ("..", ".") for segment in segments):
        raise ValidationError(
            f"webroot {value[:100]!r}: use plain folder names (letters, digits, '.', '-', '_') under {allowed}",
            code="invalid_webroot",
        )
    path = PurePosixPath("/", *segments)
    if not any(path == root or root in path.parents for root in roots):
        raise ValidationError(f"webroot {str(path)!r} is not under {allowed}", code="invalid_webroot")
    return str(path)
