"""The canonical form of an audit event and the hash that chains it to the one before.

hash = SHA-256(prev_hash + "\n" + canonical JSON of the event's fields). The canonical JSON has sorted
keys, no spaces, UTF-8, and the time as ISO 8601 in UTC with microseconds: what the database gives
back reproduces it exactly, so verifying needs nothing but the rows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The fields that enter the hash, in the order a row is read for verifying.
CHAINED_FIELDS = (
    "created_at", "tenant", "actor_type", "actor_id", "actor_name", "channel", "action", "object_type",
    "object_id", "object_name", "changes", "ip_address", "user_agent", "token_prefix",
)  # fmt: skip


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    document = {name: fields[name] for name in CHAINED_FIELDS}
    document["created_at"] = _timestamp(document["created_at"])
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, fields: dict[str, Any]) -> str:
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(b"\n")
    digest.update(canonical(fields))
    return digest.hexdigest()
