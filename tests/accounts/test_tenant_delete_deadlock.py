"""Deleting a tenant while a worker still holds some of its rows (an event it delivers, a job it ends):
DROP SCHEMA and the worker can wait for each other, and PostgreSQL ends one of the two. The deletion
tries again rather than failing the operator's command (or leaving a test's tenant behind)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
from django_tenants.utils import schema_exists

from apps.accounts.services.tenants import tenant_create, tenant_delete
from certmate.actors import Actor
from tests.worker import database_url_of_test_db


def test_a_deadlock_with_a_worker_holding_the_tenants_rows_does_not_stop_the_deletion(live_db):
    slug = f"d{uuid.uuid4().hex[:10]}"
    tenant_create(slug=slug, domain=f"{slug}.test", actor=Actor.command())
    holding, outcome = threading.Event(), {}

    def worker() -> None:
        # Rows of one table held, then (once DROP SCHEMA waits for them) something DROP holds is asked
        # for: a table created in the schema needs the schema, which DROP SCHEMA locked first.
        with psycopg.connect(database_url_of_test_db()) as conn:
            conn.execute(f'LOCK TABLE "{slug}".certificates_certificate IN ROW SHARE MODE')
            holding.set()
            time.sleep(0.5)
            try:
                conn.execute(f'CREATE TABLE "{slug}".worker_scratch (a int)')
                outcome["worker"] = "went on"
            except psycopg.errors.DeadlockDetected:
                outcome["worker"] = "was ended"
            conn.rollback()

    thread = threading.Thread(target=worker)
    thread.start()
    holding.wait(10)
    tenant_delete(slug=slug)  # DROP waits first, so PostgreSQL ends the DROP: it must be tried again
    thread.join(30)
    assert outcome == {"worker": "went on"}
    assert not schema_exists(slug)
