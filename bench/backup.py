"""Exporting and importing a tenant of N certificates vs pg_dump and pg_restore of the same schema.

    .venv/bin/python bench/backup.py [--certificates 2000]

Runs in a throw-away database `<name>_bench` on DATABASE_URL's server (pg_restore gets one more,
`<name>_bench_restore`), and drops them afterwards. certmate's export decrypts every secret and encrypts
the archive; pg_dump copies the rows as they are (secrets still under the at-rest key), so the ratio is
the price of an archive that restores onto another key, with checks, in one transaction.
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tenant_create import bench_database, bench_platform, drop_database  # noqa: E402

TRIGGER_FUNCTION = (
    "CREATE FUNCTION public.certmate_audit_append_only() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RAISE EXCEPTION 'append-only'; END $$"
)


def run(*argv: str) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def fill(count: int) -> None:
    from tests.factories import certificate_make

    for number in range(count):
        certificate_make(f"host{number:05d}.bench.test")
        if (number + 1) % 500 == 0:
            print(f"  {number + 1}/{count} certificates", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=2000)
    args = parser.parse_args()

    url, admin = bench_database()
    restore_url, _ = bench_database("_bench_restore")
    try:
        bench_platform(url)
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create
        from apps.backups.services import tenant_export, tenant_import
        from certmate.actors import Actor

        actor = Actor.command(name="bench")
        source = tenant_create(slug="source", domain="source.bench.test", actor=actor)
        with tenant_context(source):
            fill(args.certificates)

        with TemporaryDirectory() as folder:
            archive, dump = Path(folder) / "source.backup", Path(folder) / "source.dump"
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            with archive.open("wb") as sink, tenant_context(source):
                report = tenant_export(sink=sink, actor=actor)
            export_seconds = time.perf_counter() - started
            rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
            started = time.perf_counter()
            with archive.open("rb") as archived:
                tenant_import(source=archived, slug="restored", actor=actor)
            import_seconds = time.perf_counter() - started

            dump_seconds = run("pg_dump", "--format=custom", "--schema=source", f"--file={dump}", url)
            # The audit trigger's function lives in the public schema, which the schema's dump leaves out.
            run("psql", restore_url, "-c", TRIGGER_FUNCTION)
            restore_seconds = run("pg_restore", "--no-owner", f"--dbname={restore_url}", str(dump))
            archive_size, dump_size = archive.stat().st_size, dump.stat().st_size
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(admin, url)
        drop_database(admin, restore_url)

    out = io.StringIO()
    out.write(f"tenant: {args.certificates} certificates, {report.rows} rows in {report.tables} tables\n")
    growth = f"max RSS grew {rss_growth / 1024:.0f} MiB"
    out.write(f"export:  {export_seconds:.2f} s, {archive_size / 1e6:.1f} MB ({growth})\n")
    out.write(f"pg_dump: {dump_seconds:.2f} s, {dump_size / 1e6:.1f} MB\n")
    out.write(f"ratio export / pg_dump:      {export_seconds / dump_seconds:.1f}x\n")
    out.write(f"import:     {import_seconds:.2f} s (new tenant, checks, one transaction)\n")
    out.write(f"pg_restore: {restore_seconds:.2f} s (into an empty database)\n")
    out.write(f"ratio import / pg_restore:   {import_seconds / restore_seconds:.1f}x\n")
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
