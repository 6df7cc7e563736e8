"""Reading the current tenant's audit log: the events a filter selects, and each as a document of its own
(what the export writes, one JSON line per event, with the hashes that chain it).

Filters arrive validated (the API's and the command's faces check them); these functions only apply them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from certmate.audit.chain import CHAINED_FIELDS, timestamp
from certmate.audit.models import AuditEvent

EXPORT_CHUNK = 2000  # rows fetched at a time by the export's server-side cursor
EXPORTED_FIELDS = ("id", *CHAINED_FIELDS, "prev_hash", "hash")


def action_matches(action: str) -> dict[str, str]:
    """An action filter as a lookup: ``certificate.`` (a trailing dot) is every action of that object type,
    anything else one action exactly."""
    return {"action__startswith": action} if action.endswith(".") else {"action": action}


def audit_event_list(
    *,
    actor: int | str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The tenant's events matching every filter given, newest first. ``actor``: a user's id (int), or
    the actor's name (the user's e-mail, or what the system did), any case; ``since`` inclusive,
    ``until`` exclusive."""
    rows = AuditEvent.objects.all()
    if isinstance(actor, int):
        rows = rows.filter(actor_id=actor)
    elif actor:
        rows = rows.filter(actor_name__iexact=actor)
    if action:
        rows = rows.filter(**action_matches(action))
    if object_type:
        rows = rows.filter(object_type=object_type)
    if object_id:
        rows = rows.filter(object_id=object_id)
    if channel:
        rows = rows.filter(channel=channel)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows.order_by("-id")


def audit_event_document(values: dict[str, Any]) -> dict[str, Any]:
    """One event as the export writes it: every chained field as it entered the hash (the time in UTC,
    ISO 8601 with microseconds), its id, ``prev_hash`` and ``hash``. With ``certmate.audit.chain.link``
    anyone can recompute ``hash`` from the line alone."""
    return {**values, "created_at": timestamp(values["created_at"])}


def audit_event_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as JSON lines in the order of the chain (oldest first), read in chunks: memory stays
    bounded whatever the log's size."""
    rows = events.order_by("id").values(*EXPORTED_FIELDS)
    for values in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield json.dumps(audit_event_document(values), ensure_ascii=False, separators=(",", ":")) + "\n"
