"""The canonical form of an audit event and the hash that chains it to the one before.

hash = SHA-256(prev_hash + "\n" + canonical JSON of the event's fields). The canonical JSON has sorted
keys, no spaces, UTF-8, and the time as ISO 8601 in UTC with microseconds: what the database gives
back reproduces it exactly, so verifying needs nothing but the rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The fields that enter the hash, in the order a row is read for verifying.
CHAINED_FIELDS = (
    "created_at", "tenant", "actor_type", "actor_id", "actor_name", "channel", "action", "object_type",
    "object_id", "object_name", "changes", "ip_address", "user_agent", "token_prefix",
)  # fmt: skip


# What canonical JSON is (one encoder for every event: json.dumps would build one per call).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The same text as timestamp() gives, made by PostgreSQL (verifying reads the time as text this way).
TIMESTAMP_SQL = """to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def timestamp(value: datetime) -> str:
    """The time as the chain hashes it: UTC, ISO 8601, microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    """``created_at`` is a datetime, or already its ``timestamp()`` text."""
    document = {name: fields[name] for name in CHAINED_FIELDS}
    if not isinstance(document["created_at"], str):
        document["created_at"] = timestamp(document["created_at"])
    return _ENCODER.encode(document).encode()


def _digest(prev_hash: str, canonical_form: bytes) -> str:
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(b"\n")
    digest.update(canonical_form)
    return digest.hexdigest()


def link(prev_hash: str, fields: dict[str, Any]) -> str:
    return _digest(prev_hash, canonical(fields))


def link_row(prev_hash: str, values: Sequence[Any]) -> str:
    """``link()`` of a row read in ``CHAINED_FIELDS`` order, its time already ``timestamp()`` text (the
    verifier's fast path: no intermediate copies)."""
    return _digest(prev_hash, _ENCODER.encode(dict(zip(CHAINED_FIELDS, values, strict=True))).encode())
