"""Recording audit events and verifying a tenant's chain of them.

``audit_record`` runs inside the caller's transaction: the event commits or rolls back with the write
it records. Writers of one tenant take their turn on a transaction-level advisory lock, so each event
links to the one committed before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from certmate.actors import Actor
from certmate.audit.chain import CHAINED_FIELDS, GENESIS, TIMESTAMP_SQL, link, link_row
from certmate.audit.models import AuditEvent

_AUDIT_LOCK = 0x4155  # "AU": appending to this tenant's audit chain
_VALUE_LENGTH = 500  # a recorded value longer than this is cut (the record says what changed, not all of it)
_LAST_HASH = 'SELECT "hash" FROM "audit_auditevent" ORDER BY "id" DESC LIMIT 1'
SECRET_CHANGED = "changed"  # noqa: S105 - what the log says instead of a secret


def _json_safe(value: Any) -> Any:
    """A value as the audit log keeps it: JSON scalars, lists and objects, strings bounded."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Enum):
        return _json_safe(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k).replace("\x00", "")[:100]: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_safe(item) for item in items]
    if isinstance(value, models.Model):
        return str(value)[:_VALUE_LENGTH]
    return str(value).replace("\x00", "")[:_VALUE_LENGTH]


def _text(value: str | None, length: int) -> str:
    """A text column's value as PostgreSQL takes it: no NUL (a request header or a name may hold one), bounded."""
    return (value or "").replace("\x00", "")[:length]


def audit_snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``instance`` as recordable values (a foreign key as its id)."""
    snapshot = {}
    for name in fields:
        field = instance._meta.get_field(name)
        raw = getattr(instance, field.attname)
        snapshot[name] = _json_safe(raw)
    return snapshot


def audit_changes(before: Mapping[str, Any], after: Mapping[str, Any], *, secret: Iterable[str] = ()) -> dict[str, Any]:
    """What changed between two snapshots: ``{field: [before, after]}``; a secret field only as
    ``{field: "changed"}``, never its value. A field missing from one side counts as None there."""
    secret = set(secret)
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in secret:
            changed[name] = SECRET_CHANGED
        else:
            changed[name] = [_json_safe(old), _json_safe(new)]
    return changed


def _object_fields(target: models.Model | None, object_type: str, object_id: Any, object_name: str) -> dict:
    if target is not None:
        object_type = object_type or target._meta.verbose_name.replace(" ", "_")
        object_id = target.pk if object_id in (None, "") else object_id
        object_name = object_name or str(target)
    return {
        "object_type": _text(object_type, 60),
        "object_id": "" if object_id is None else _text(str(object_id), 64),
        "object_name": _text(object_name, 300),
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: Any = None,
    object_name: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to this tenant's audit chain, in the caller's transaction."""
    if not isinstance(actor, Actor):
        raise TypeError(f"audit_record needs an Actor, not {type(actor).__name__}")
    with transaction.atomic(savepoint=False):
        return _append(actor, action, _object_fields(target, object_type, object_id, object_name), changes)


def _append(actor: Actor, action: str, object_fields: dict[str, str], changes: Mapping[str, Any] | None) -> AuditEvent:
    # No savepoint of its own (two statements fewer per write): an event that fails to append fails the
    # caller's transaction, which is what an audited write must do anyway.
    schema = connection.schema_name
    fields = {
        "tenant": schema,
        "actor_type": actor.kind,
        "actor_id": actor.user_id,
        "actor_name": _text(actor.name, 254),
        "channel": str(actor.channel),
        "action": _text(action, 80),
        **object_fields,
        # Through JSON once, so the hash covers exactly what the database gives back.
        "changes": json.loads(json.dumps(_json_safe(dict(changes or {})))),
        "ip_address": actor.ip_address or "",
        "user_agent": _text(actor.user_agent, 300),
        "token_prefix": _text(actor.token_prefix, 20),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_AUDIT_LOCK, schema])
        # Read after the lock (its own statement, so its own snapshot): the last event committed before.
        cursor.execute(_LAST_HASH)
        previous = cursor.fetchone()
    event = AuditEvent(**fields)
    # The time is taken under the lock, so the chain's order is also the order of its times.
    event.created_at = timezone.now()
    event.prev_hash = previous[0] if previous else GENESIS
    event.hash = link(event.prev_hash, {name: getattr(event, name) for name in CHAINED_FIELDS})
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a tenant's chain: how many events were checked, and the first broken
    link if any (the event's id and what is wrong with it)."""

    tenant: str
    checked: int
    broken_id: int | None = None
    problem: str = ""
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_id is None


# Every event of the schema in chain order, as text where the hash needs text: the time formatted by
# PostgreSQL exactly as ``timestamp()`` formats it, the changes as JSON (parsed, then re-encoded).
_READ_AS = {"created_at": TIMESTAMP_SQL.format(column='"created_at"'), "changes": '"changes"::text'}
CHAIN_ROWS_SQL = "SELECT {} FROM audit_auditevent ORDER BY id".format(  # noqa: S608 - the model's own names
    ", ".join(_READ_AS.get(name, f'"{name}"') for name in ("id", "prev_hash", "hash", *CHAINED_FIELDS))
)
_CHANGES_AT = CHAINED_FIELDS.index("changes")
_JSON = json.JSONDecoder()


def audit_verify(*, chunk_size: int = 5000) -> ChainReport:
    """Walk this tenant's events in order, recomputing every hash; stop at the first broken link.

    Rows come through a server-side cursor, ``chunk_size`` at a time and without the ORM's per-row
    conversions (verifying 100,000 events is mostly hashing them): memory stays bounded."""
    expected_prev = GENESIS
    checked = 0
    schema = connection.schema_name
    # In a transaction: outside one the cursor would be WITH HOLD, copied whole on the server first.
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(CHAIN_ROWS_SQL)
        while rows := cursor.fetchmany(chunk_size):
            for event_id, prev_hash, stored_hash, *values in rows:
                if prev_hash != expected_prev:
                    problem = (
                        f"event {event_id} does not follow the event before it: an event was removed, inserted "
                        "or reordered before it"
                    )
                    return ChainReport(schema, checked, event_id, problem, expected_prev)
                values[_CHANGES_AT] = _JSON.decode(values[_CHANGES_AT])
                if link_row(prev_hash, values) != stored_hash:
                    problem = f"event {event_id} was changed after it was recorded (its hash no longer matches)"
                    return ChainReport(schema, checked, event_id, problem, expected_prev)
                expected_prev = stored_hash
                checked += 1
    return ChainReport(schema, checked, last_hash=expected_prev)
