"""Certificate scopes of API tokens (CertMate's ``allowed_domains``): which certificates a token may see,
pull and change. A scope is a list of exact names (``api.example.com``) and ``*.`` patterns
(``*.example.com``: any name below example.com, never example.com itself). A wildcard certificate
(``*.example.com``) is only in a scope that lists that very pattern: it is valid for every name below,
so no narrower entry may reach it. An empty scope means no limit (the token sees all its role allows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q

from apps.accounts.validators import validate_hostname

MAX_SCOPE_ENTRIES = 100
MAX_NAME_LENGTH = 253
WILDCARD = "*."


def allowed_domains_clean(values: Iterable[str] | None) -> list[str]:
    """The scope as stored: each entry stripped, lowercased, checked (an exact DNS name or ``*.`` and one),
    duplicates dropped, order kept; at most MAX_SCOPE_ENTRIES. ValidationError naming the bad entry."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError("allowed_domains is a list of names and *. patterns", code="invalid_scope")
    cleaned: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationError("allowed_domains holds names as text", code="invalid_scope")
        entry = value.strip().lower()
        if not entry:
            continue
        if len(entry) > MAX_NAME_LENGTH or not _is_scope_entry(entry):
            raise ValidationError(
                f"allowed_domains entry {value[:80]!r} is neither a domain name (api.example.com) nor a "
                "pattern (*.example.com)",
                code="invalid_scope",
            )
        if entry not in cleaned:
            cleaned.append(entry)
    if len(cleaned) > MAX_SCOPE_ENTRIES:
        raise ValidationError(
            f"allowed_domains holds {MAX_SCOPE_ENTRIES} entries at most ({len(cleaned)} given)", code="invalid_scope"
        )
    return cleaned


def _is_scope_entry(entry: str) -> bool:
    name = entry.removeprefix(WILDCARD)
    try:
        validate_hostname(name)
    except ValidationError:
        return False
    return "." in name  # as CertMate's: at least two labels, so neither "localhost" nor "*.com"


@dataclass(frozen=True)
class CertificateScope:
    """The names a token is limited to; ``None`` of these objects means no limit."""

    entries: tuple[str, ...]

    @classmethod
    def of(cls, allowed_domains: Iterable[str] | None) -> CertificateScope | None:
        entries = tuple(allowed_domains or ())
        return cls(entries) if entries else None

    def allows(self, name: str) -> bool:
        """Whether a certificate named ``name`` is in this scope (as stored: domains are lowercase, and a
        private certificate's name in capitals matches no entry, as in ``q()``)."""
        name = name or ""
        if name in self.entries:
            return True
        if name.startswith(WILDCARD):
            return False  # a wildcard certificate only by its very pattern
        return any(entry.startswith(WILDCARD) and name.endswith(entry[1:]) for entry in self.entries)

    def covers(self, entry: str) -> bool:
        """Whether a scope entry (a name or a pattern) grants nothing this scope does not."""
        if self.allows(entry):
            return True
        if not entry.startswith(WILDCARD):
            return False
        return any(mine.startswith(WILDCARD) and entry[1:].endswith(mine[1:]) for mine in self.entries)

    def covers_all(self, entries: Iterable[str]) -> bool:
        entries = list(entries)
        return bool(entries) and all(self.covers(entry) for entry in entries)

    def q(self, field: str = "identifier") -> Q:
        """The scope as a filter on a certificate's name column."""
        exact = Q(**{f"{field}__in": list(self.entries)})
        below = Q()
        for entry in self.entries:
            if entry.startswith(WILDCARD):
                below |= Q(**{f"{field}__endswith": entry[1:]})
        if below:
            below &= ~Q(**{f"{field}__startswith": WILDCARD})
        return exact | below if below else exact

    def __str__(self) -> str:
        return ", ".join(self.entries)


def token_scope(token) -> CertificateScope | None:
    """The scope of an API token (an ApiToken, or anything else: no scope)."""
    return CertificateScope.of(getattr(token, "allowed_domains", None))
