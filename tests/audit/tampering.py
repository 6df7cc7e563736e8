"""What a database superuser can do to the audit log behind the append-only trigger."""

from __future__ import annotations

from django.db import connection


def behind_the_trigger(statement: str, params: list) -> None:
    """Run ``statement`` in the current schema with the trigger switched off for it (inside the test's
    transaction, so the edit and the switch roll back with it)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(statement, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
