"""Validation of the names a server certificate covers, before anything runs."""

from __future__ import annotations

import re

import idna
from django.core.exceptions import ValidationError

MAX_NAMES = 100  # Let's Encrypt's limit of names per certificate
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def domain_clean(name: str) -> str:
    """The name as an ACME CA expects it: lowercase A-labels, a wildcard only as the whole leftmost
    label. Raises ValidationError naming the value and what is wrong with it."""
    raw = name
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("a domain name is empty", code="invalid_domain")
    name = name.strip().rstrip(".").lower()
    wildcard = name.startswith("*.")
    body = name[2:] if wildcard else name
    if "*" in body:
        raise ValidationError(
            f"{raw!r}: a wildcard may only be the whole leftmost label (*.example.com)", code="invalid_domain"
        )
    if any(ord(ch) < 33 or ch in "/\\@:" for ch in body):
        raise ValidationError(
            f"{raw!r} is not a domain name (spaces, slashes, '@' and ':' are not allowed)", code="invalid_domain"
        )
    if not body.isascii():
        try:
            body = idna.encode(body, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValidationError(f"{raw!r} is not a valid domain name: {exc}", code="invalid_domain") from None
    if len(body) + (2 if wildcard else 0) > 253:
        raise ValidationError(f"{raw!r} is longer than 253 characters", code="invalid_domain")
    labels = body.split(".")
    if len(labels) < 2:
        raise ValidationError(f"{raw!r} needs at least two labels (e.g. example.com)", code="invalid_domain")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise ValidationError(
                f"{raw!r}: label {label!r} must be 1-63 letters, digits or hyphens, "
                "not starting or ending with a hyphen",
                code="invalid_domain",
            )
        if label.startswith("xn--") and not _a_label_valid(label):
            raise ValidationError(
                f"{raw!r}: label {label!r} is not a valid internationalized label (xn--)", code="invalid_domain"
            )
    if labels[-1].isdigit():
        raise ValidationError(f"{raw!r} looks like an IP address, not a domain name", code="invalid_domain")
    return f"*.{body}" if wildcard else body


def _a_label_valid(label: str) -> bool:
    """An xn-- label is valid when it decodes to a U-label that encodes back to the same A-label."""
    try:
        return idna.encode(idna.decode(label)).decode("ascii") == label
    except (idna.IDNAError, UnicodeError, ValueError):
        return False


def domains_clean(identifier: str, san_domains: list[str] | None = None) -> list[str]:
    """Identifier first, then the SANs; each cleaned; duplicates and oversize lists refused."""
    names = [domain_clean(identifier), *(domain_clean(name) for name in san_domains or [])]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(f"{name} is listed more than once", code="duplicate_domain")
        seen.add(name)
    if len(names) > MAX_NAMES:
        raise ValidationError(
            f"{len(names)} names is more than the {MAX_NAMES} a certificate may carry", code="too_many_domains"
        )
    return names
