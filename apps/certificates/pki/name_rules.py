"""Does a name fall under a profile's pattern, or inside its CA's name constraints? Matching is strict
where a loose match would let a look-alike through: a URI prefix ends at a path boundary
(``spiffe://example.org`` does not cover ``spiffe://example.org.evil/``) and a URI with dot segments
(``/../``, also percent-encoded) or an encoded slash falls under no pattern."""

from __future__ import annotations

import ipaddress
import re

from apps.certificates.models import CertificateAuthority, SanType
from apps.certificates.pki.names import AltName

# "." or ".." as a whole path segment (also as %2e), an encoded "/" or a backslash: what a consumer
# normalizing the URI could read as another path than the one the pattern approved.
_URI_TRICKS = re.compile(r"(^|/)(\.|%2e){1,2}($|[/?#])|%2f|%5c|\\", re.IGNORECASE)


def _uri_matches(pattern: str, value: str) -> bool:
    if not value.startswith(pattern) or _URI_TRICKS.search(value.partition("://")[2] or value):
        return False
    rest = value[len(pattern) :]
    return not rest or pattern[-1] in "/:?#" or rest[0] in "/?#"


def pattern_matches(san_type: str, pattern: str, value: str) -> bool:
    if san_type == SanType.DNS:
        return value.endswith(pattern[1:]) if pattern.startswith("*.") else value == pattern
    if san_type == SanType.EMAIL:
        return value.lower().endswith(pattern.lower()) if pattern.startswith("@") else value == pattern
    if san_type == SanType.IP:
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
    return _uri_matches(pattern, value)


def allowed_by_constraints(authority: CertificateAuthority, name: AltName) -> bool:
    constraints = authority.name_constraints or {}
    kind = {SanType.DNS: "dns", SanType.IP: "ip", SanType.EMAIL: "email"}.get(name.type)
    if kind is None:
        return True

    def hit(pattern: str) -> bool:
        if kind == "ip":
            return ipaddress.ip_address(name.value) in ipaddress.ip_network(pattern, strict=False)
        value = name.value.rpartition("@")[2] if kind == "email" and "@" not in pattern else name.value
        if pattern.startswith("."):
            return value.endswith(pattern)
        return value == pattern or value.endswith("." + pattern)

    if any(hit(p) for p in constraints.get(f"excluded_{kind}", [])):
        return False
    permitted = constraints.get(f"permitted_{kind}", [])
    return not permitted or any(hit(p) for p in permitted)
