"""PostgreSQL advisory locks that outlive transactions: taken at session level on a connection of their
own, never the one Django queries with.

Work that calls a host a tenant chose (a CA, a DNS API, a storage target) holds such a lock instead of
a row lock, so no transaction stays open across the call. The lock lasts until released and dies with
its process: a worker killed mid-run drops its connection, and PostgreSQL releases what it held. The
main connection meanwhile runs short transactions of its own before and after the call.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections

# First key of each family of locks (the second is a hash of what is locked, in the tenant's schema).
TENANT_SLOT = 0x534C  # "SL": one of a tenant's certbot slots
CA_ACCOUNT = 0x4341  # "CA": registering one CA account at its CA
PUBLISH = 0x5043  # "PC": publishing one certificate to its storage target
STORAGE_SLOT = 0x5354  # "ST": one of a tenant's storage slots (publishes from the queue)
BACKUP = 0x424B  # "BK": making or restoring one of a tenant's kept backups
REISSUE = 0x5249  # "RI": starting one of a tenant's bulk reissues


def lock_key(name: str) -> str:
    """What is locked, qualified by the current tenant's schema (ids repeat across schemas)."""
    return f"{connection.schema_name}:{name}"


class _LockConnection:
    """A connection of its own, in autocommit, that holds session-level advisory locks."""

    def __init__(self) -> None:
        self.db = connections.create_connection(DEFAULT_DB_ALIAS)

    def try_lock(self, family: int, key: str) -> bool:
        with self.db.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [family, key])
            return bool(cursor.fetchone()[0])

    def close(self) -> None:
        # Closing the session releases every lock it holds, whatever happened before.
        self.db.close()


@contextmanager
def session_lock(family: int, name: str, *, wait_seconds: float = 0, poll_seconds: float = 0.2) -> Iterator[bool]:
    """Hold lock (family, name in this tenant) while the block runs; yields whether it was taken, trying
    for up to ``wait_seconds``. Waiting polls: no transaction and no blocked backend waits meanwhile."""
    holder = _LockConnection()
    try:
        key = lock_key(name)
        deadline = time.monotonic() + wait_seconds
        taken = holder.try_lock(family, key)
        while not taken and time.monotonic() < deadline:
            time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))
            taken = holder.try_lock(family, key)
        yield taken
    finally:
        holder.close()


@contextmanager
def one_slot_of(family: int, name: str, count: int) -> Iterator[int | None]:
    """Hold one of ``count`` slots named ``name`` in this tenant while the block runs; yields its number,
    or None when all are taken (by this or any other process)."""
    holder = _LockConnection()
    try:
        # Tried from a random start, so the slots are worn evenly and one busy slot is not asked first.
        start = random.randrange(count)  # noqa: S311 - spreading load, not a secret
        taken = None
        for offset in range(count):
            slot = (start + offset) % count
            if holder.try_lock(family, lock_key(f"{name}:{slot}")):
                taken = slot
                break
        yield taken
    finally:
        holder.close()


def xact_lock_try(family: int, name: str) -> bool:
    """Take lock (family, name in this tenant) until the current transaction ends, if nobody holds it
    (at session or transaction level). Call inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [family, lock_key(name)])
        return bool(cursor.fetchone()[0])
