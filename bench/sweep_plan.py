"""How long the renewal sweep takes to find what is due: 100,000 certificates over 100 tenants.

    .venv/bin/python bench/sweep_plan.py [--tenants 100] [--per-tenant 1000] [--due-share 0.02]

Rows are synthetic (one version each, no real key), written straight into each tenant's schema in
a throw-away database `<name>_bench` (DATABASE_URL's server, or the embedded PostgreSQL), dropped
afterwards. Prints the time to run the due query in every tenant, against a full scan of the same
rows without the index as the baseline, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tenant_create import bench_database, drop_database  # noqa: E402


def fill(tenant, count: int, due_share: float, now) -> int:
    """``count`` certificates with a current version each; about ``due_share`` of them due at ``now``."""
    from django.db import connection

    due = 0
    rows = []
    for number in range(count):
        is_due = random.random() < due_share  # noqa: S311
        due += is_due
        not_before = now - timedelta(days=random.randint(1, 80))  # noqa: S311
        renew_at = now - timedelta(hours=1) if is_due else now + timedelta(days=random.randint(1, 60))  # noqa: S311
        rows.append((number, not_before, not_before + timedelta(days=90), renew_at, number % 50 != 0))
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO certificates_certificate
                 (kind, identifier, san_domains, subject_fields, alt_names, csr_pem, usage, notes, key_type, challenge,
                  auto_renew, status, last_error, renew_at, created_at, updated_at)
               SELECT 'server', 'host' || n || '.example.com', '{}', '{}', '{}', '', '', '', 'ec256', 'dns-01', a,
                      'active', '', r, now(), now()
               FROM unnest(%s::int[], %s::timestamptz[], %s::bool[]) AS t(n, r, a)""",
            [[r[0] for r in rows], [r[3] for r in rows], [r[4] for r in rows]],
        )
        cursor.execute(
            """INSERT INTO certificates_certificateversion
                 (certificate_id, number, serial, not_before, not_after, subject, issuer, san, key_algorithm,
                  key_size, key_usage, extended_key_usage, fingerprint_sha256, revocation_reason,
                  certificate_pem, chain_pem, fullchain_pem, private_key, created_at)
               SELECT c.id, 1, to_hex(c.id), c.created_at - interval '1 day', c.renew_at + interval '30 days',
                      'CN=' || c.identifier, 'CN=bench', ARRAY[c.identifier], 'EC', 256, '{}', '{}',
                      md5(c.id::text || c.identifier) || md5(c.identifier), '', '', '', '', 'enc1:none', now()
               FROM certificates_certificate c"""
        )
        cursor.execute(
            """UPDATE certificates_certificate c SET current_version_id = v.id
               FROM certificates_certificateversion v WHERE v.certificate_id = c.id"""
        )
        cursor.execute("ANALYZE certificates_certificate")
    # Only auto-renew certificates count as due.
    return sum(1 for r in rows if r[3] <= now and r[4])


def scale_parser(doc: str) -> argparse.ArgumentParser:
    """--tenants and --per-tenant (100 x 1,000 certificates), --keep (the database, afterwards)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--per-tenant", type=int, default=1000)
    parser.add_argument("--keep", action="store_true")
    return parser


def main() -> int:
    parser = scale_parser(__doc__)
    parser.add_argument("--due-share", type=float, default=0.02)
    args = parser.parse_args()

    url, admin = bench_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="certmate.settings.dev", LOG_LEVEL="WARNING")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.certificates.services.renewals import certificates_due
        from certmate.actors import Actor

        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        tenant_ensure_public(domains=["localhost"])
        now = timezone.now()
        tenants, expected = [], 0
        started = time.perf_counter()
        for number in range(args.tenants):
            tenant = tenant_create(slug=f"s{number:03d}", domain=f"s{number:03d}.bench.test", actor=Actor.command())
            with tenant_context(tenant):
                expected += fill(tenant, args.per_tenant, args.due_share, now)
            tenants.append(tenant)
        print(
            f"filled {args.tenants} tenants x {args.per_tenant} certificates in {time.perf_counter() - started:.1f} s"
        )

        def sweep_find(use_index: bool) -> tuple[float, int]:
            found = 0
            with connection.cursor() as cursor:
                cursor.execute(f"SET enable_indexscan = {'on' if use_index else 'off'}")
                cursor.execute(f"SET enable_bitmapscan = {'on' if use_index else 'off'}")
            started = time.perf_counter()
            for tenant in tenants:
                with tenant_context(tenant):
                    found += len(list(certificates_due(now=now).values_list("pk", flat=True)))
            return time.perf_counter() - started, found

        sweep_find(True)  # warm the caches alike for both
        indexed, found = sweep_find(True)
        scanned, found_scan = sweep_find(False)
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan; RESET enable_bitmapscan")
        with tenant_context(tenants[0]):
            plan = certificates_due(now=now).explain()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, url)

    assert found == found_scan == expected, (found, found_scan, expected)
    total = args.tenants * args.per_tenant
    print(f"certificates: {total} over {args.tenants} tenants; due now: {found}")
    per_tenant_ms = indexed / args.tenants * 1000
    print(f"find what is due, partial index on renew_at: {indexed:.3f} s ({per_tenant_ms:.1f} ms per tenant)")
    print(f"find what is due, full scan (baseline):      {scanned:.3f} s")
    print(f"ratio scan / index: {scanned / indexed:.1f}x   aim under 2 s: {'met' if indexed < 2 else 'missed'}")
    print("plan of one tenant's query:\n  " + plan.replace("\n", "\n  "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
