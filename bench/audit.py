"""What the audit log costs: the overhead recording an event adds to a write, and verifying 100,000 events.

    .venv/bin/python bench/audit.py [--writes 2000] [--events 100000] [--keep]

Runs in a throw-away database `<name>_bench` on DATABASE_URL's server (or the embedded PostgreSQL), in a
tenant made for the bench, and drops it afterwards.

1. Per write: a service's write as certmate's services make it (one transaction: lock the row, change a
   field, save) against the same write recording its audit event as the services do (snapshot before and
   after, the changes, ``audit_record``). Run interleaved in rounds; prints µs per write (median of the
   rounds) and their ratio.
2. Verify: ``--events`` events bulk-loaded (COPY) with their chain computed as ``audit_record`` computes it,
   then ``audit_verify()`` (median of 3) against reading the same rows without hashing them (the
   baseline). Prints events/s, the ratio, and whether verifying stays under 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tenant_create import bench_database, drop_database  # noqa: E402

ROUNDS = 10
VERIFY_AIM_SECONDS = 5.0
SETTINGS_FIELDS = ("renewal_threshold_days",)


def one_write(*, audited: bool, value: int, actor) -> None:
    """A row update as a service makes it, recording its event when ``audited``."""
    from django.db import transaction

    from apps.certificates.models import TenantSettings
    from certmate.audit.services import audit_changes, audit_record, audit_snapshot

    with transaction.atomic():
        row = TenantSettings.objects.select_for_update().get(singleton=True)
        before = audit_snapshot(row, SETTINGS_FIELDS) if audited else None
        row.renewal_threshold_days = value
        row.save(update_fields=list(SETTINGS_FIELDS))
        if audited:
            audit_record(
                actor=actor,
                action="tenant_settings.updated",
                target=row,
                object_type="tenant_settings",
                changes=audit_changes(before, audit_snapshot(row, SETTINGS_FIELDS)),
            )


def statements(actor) -> dict[bool, int]:
    """SQL statements one write sends, without and with its event (round trips: what a write's time
    mostly is, and what does not vary with the machine's load)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counted = {}
    for audited in (False, True):
        with CaptureQueriesContext(connection) as captured:
            one_write(audited=audited, value=25, actor=actor)
        counted[audited] = len(captured.captured_queries)
    return counted


def bench_actor():
    from certmate.actors import Actor, Channel

    return Actor(channel=Channel.API, name="ops@bench.example", ip_address="192.0.2.10", user_agent="bench/1.0")


def per_write(writes: int) -> dict[bool, float]:
    """Median seconds per write, without (False) and with (True) recording the event."""
    actor = bench_actor()
    per_round = max(1, writes // ROUNDS)
    for number in range(50):  # warm-up: connections, caches, the first events of the chain
        one_write(audited=number % 2 == 0, value=20 + number % 10, actor=actor)
    samples: dict[bool, list[float]] = {False: [], True: []}
    for round_number in range(ROUNDS):
        for audited in (False, True) if round_number % 2 == 0 else (True, False):
            started = time.perf_counter()
            for number in range(per_round):
                one_write(audited=audited, value=20 + number % 10, actor=actor)
            samples[audited].append((time.perf_counter() - started) / per_round)
    return {audited: statistics.median(values) for audited, values in samples.items()}


def insert_chain(count: int) -> float:
    """``count`` events appended to the tenant's chain with COPY, each hashed as ``audit_record`` hashes
    it; the seconds it took."""
    import json

    from django.db import connection
    from django.utils import timezone

    from certmate.audit.chain import CHAINED_FIELDS, GENESIS, link

    columns = (*CHAINED_FIELDS, "prev_hash", "hash")
    start = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:  # this cursor carries the tenant's search_path
        cursor.execute('SELECT "hash" FROM audit_auditevent ORDER BY id DESC LIMIT 1')
        previous = (cursor.fetchone() or [GENESIS])[0]
        with cursor.cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for number in range(count):
                event = {
                    "created_at": start + timedelta(milliseconds=number),
                    "tenant": connection.schema_name,
                    "actor_type": "user",
                    "actor_id": 1 + number % 7,
                    "actor_name": f"user{number % 7}@bench.example",
                    "channel": ("api", "admin", "portal", "command", "system")[number % 5],
                    "action": ("certificate.requested", "certificate.renewed", "ca_account.updated")[number % 3],
                    "object_type": "certificate",
                    "object_id": str(number),
                    "object_name": f"host{number:06}.bench.example",
                    "changes": {"auto_renew": [True, False], "key_type": ["ec256", "rsa2048"], "token": "changed"},
                    "ip_address": "192.0.2.10",
                    "user_agent": "bench/1.0 (certmate audit benchmark)",
                    "token_prefix": "cm_bench",
                }
                event["prev_hash"], event["hash"] = previous, link(previous, event)
                previous = event["hash"]
                copy.write_row([json.dumps(event[name]) if name == "changes" else event[name] for name in columns])
        cursor.execute("ANALYZE audit_auditevent")  # as autovacuum would soon after a bulk load
    return time.perf_counter() - started


def read_only() -> int:
    """The baseline: every row read as audit_verify reads them (same query, same cursor), not hashed."""
    from django.db import connection, transaction

    from certmate.audit.services import CHAIN_ROWS_SQL

    count = 0
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(CHAIN_ROWS_SQL)
        while rows := cursor.fetchmany(5000):
            count += len(rows)
    return count


def timed(function) -> tuple[float, float, object]:
    """(wall seconds, this process's CPU seconds, the result)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - started, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000, help="writes measured of each kind")
    parser.add_argument("--events", type=int, default=100_000, help="events in the chain verified")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    url, admin = bench_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="certmate.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.certificates.models import TenantSettings
        from certmate.audit.services import audit_verify

        with contextlib.redirect_stdout(io.StringIO()):  # migrations print what they apply
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            tenant_ensure_public(domains=["localhost"])
            tenant = tenant_create(slug="auditbench", domain="auditbench.bench.test", actor=bench_actor())
        with tenant_context(tenant):
            TenantSettings.load()  # the row the measured writes change
            writes = per_write(args.writes)
            counts = statements(bench_actor())
            inserted = insert_chain(args.events)
            print(f"inserted {args.events} chained events in {inserted:.1f} s (COPY)", file=sys.stderr)
            read_only()  # warm the caches alike for both
            reads = [timed(read_only) for _ in range(3)]
            verifies = [timed(audit_verify) for _ in range(3)]
            load = os.getloadavg()[0]
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, url)

    report = verifies[-1][2]
    assert report.ok, f"the bench chain is broken: {report.problem}"
    read_s = statistics.median(seconds for seconds, _, _ in reads)
    verify_s = statistics.median(seconds for seconds, _, _ in verifies)
    verify_cpu = statistics.median(cpu for _, cpu, _ in verifies)
    plain, audited = writes[False], writes[True]
    print(f"\nload average while measuring: {load:.1f} on {os.cpu_count()} CPUs")
    print(f"\nper write ({args.writes} of each kind, {ROUNDS} interleaved rounds, median of the rounds):")
    print(f"  row update in a transaction (baseline):        {plain * 1e6:8.0f} µs")
    print(f"  the same write recording its audit event:      {audited * 1e6:8.0f} µs")
    print(f"  overhead: {(audited - plain) * 1e6:.0f} µs per write, ratio {audited / plain:.2f}x")
    print(f"  SQL statements per write: {counts[False]} without the event, {counts[True]} with it")
    print(f"\naudit_verify over {report.checked} events (median of 3):")
    print(f"  reading the rows without hashing (baseline):  {read_s:8.2f} s")
    rate = report.checked / verify_s
    print(f"  audit_verify (reading and recomputing hashes): {verify_s:8.2f} s = {rate:,.0f} events/s")
    print(f"  of which CPU of this process (hashing, decoding): {verify_cpu:.2f} s")
    print(f"  ratio verify / read: {verify_s / read_s:.1f}x   aim under {VERIFY_AIM_SECONDS:.0f} s: ", end="")
    print("met" if verify_s < VERIFY_AIM_SECONDS else "missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
