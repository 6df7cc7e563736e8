"""Identifiers to names a backend can hold, deterministically, reversibly and without collisions.

A server identifier is a domain (possibly ``*.example.com``); a client identifier may be a CN, an
e-mail, a URI or a device id. ``escape`` keeps lowercase letters, digits, ``-`` and ``.`` (but not a
leading dot) and writes every other byte of the UTF-8 form as ``_xx``; ``_`` itself is escaped, so
two identifiers never share a name and ``unescape`` gives the identifier back.
"""

from __future__ import annotations

import re

from apps.storage.backends.base import KINDS, IdentifierRefused

_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-.")
_ESCAPED = re.compile(r"(?:[a-z0-9.-]|_[0-9a-f]{2})+")
MAX_IDENTIFIER = 253


def check_identifier(kind: str, identifier: str) -> None:
    if kind not in KINDS:
        raise IdentifierRefused(f"certificate kind {kind!r} is unknown: use one of {', '.join(KINDS)}")
    if not isinstance(identifier, str) or not identifier:
        raise IdentifierRefused("an empty identifier cannot be stored")
    if len(identifier.encode("utf-8", "surrogatepass")) > MAX_IDENTIFIER:
        raise IdentifierRefused(f"identifier {identifier[:40]!r}… is longer than {MAX_IDENTIFIER} bytes")


def escape(identifier: str) -> str:
    out = []
    for index, byte in enumerate(identifier.encode("utf-8", "surrogatepass")):
        if byte in _PLAIN and not (index == 0 and byte == ord(".")):
            out.append(chr(byte))
        else:
            out.append(f"_{byte:02x}")
    return "".join(out)


def unescape(name: str) -> str:
    if not _ESCAPED.fullmatch(name) or name.startswith("."):
        raise ValueError(f"{name!r} is not an escaped identifier")
    raw = bytearray()
    index = 0
    while index < len(name):
        if name[index] == "_":
            raw.append(int(name[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.append(ord(name[index]))
            index += 1
    return raw.decode("utf-8", "surrogatepass")


def secret_name(prefix: str, tenant: str, kind: str, identifier: str) -> str:
    """``<prefix>/<tenant>/<kind>/<escaped identifier>`` for path-like secret stores (AWS, Vault)."""
    check_identifier(kind, identifier)
    parts = [part for part in prefix.strip("/").split("/") if part]
    return "/".join([*parts, tenant, kind, escape(identifier)])
