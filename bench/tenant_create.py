"""How long creating a tenant takes once 200 exist: cloned from the template vs plain migrations.

    .venv/bin/python bench/tenant_create.py [--tenants 200] [--samples 3]

Runs in a throw-away database `<name>_bench` on DATABASE_URL's server, or on the embedded
PostgreSQL when DATABASE_URL is unset, and drops it afterwards. Prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database(name_suffix: str = "_bench") -> tuple[str, str]:
    """A fresh database next to DATABASE_URL's (or in the embedded server): (url, admin url)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    base = os.environ.get("DATABASE_URL")
    if not base:
        from certmate.database import embedded_database_url
        from certmate.settings.base import VAR_DIR

        base = embedded_database_url(VAR_DIR / "postgres")
    params = conninfo_to_dict(base)
    name = f"{params.get('dbname') or 'certmate'}{name_suffix}"
    admin = make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    user = params.get("user") or "postgres"
    password = f":{params['password']}" if params.get("password") else ""
    host = params.get("host") or ""
    location = f"@/{name}?host={host}" if host.startswith("/") else f"@{host}:{params.get('port') or 5432}/{name}"
    return f"postgresql://{user}{password}{location}", admin


def drop_database(admin: str, url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.split("/")[3].split("?")[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def bench_platform(url: str) -> None:
    """Django set up on the bench database, its public schema migrated and the public tenant made."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "certmate.settings.dev"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.accounts.services.tenants import tenant_ensure_public

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    tenant_ensure_public(domains=["localhost"])


def timed(create, slug: str) -> float:
    # migrate_schemas prints every migration it applies; that output is not what is measured.
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        create(slug=slug, domain=f"{slug.replace('_', '-')}.bench.test")
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200, help="tenants created before measuring")
    parser.add_argument("--samples", type=int, default=3, help="creations measured per method (median)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    url, admin = bench_database()
    try:
        bench_platform(url)
        from django.test import override_settings

        from apps.accounts.services.tenants import tenant_create
        from certmate.actors import Actor

        started = time.perf_counter()
        for number in range(args.tenants):
            tenant_create(slug=f"t{number:04d}", domain=f"t{number:04d}.bench.test", actor=Actor.command())
            if (number + 1) % 50 == 0:
                print(f"  {number + 1}/{args.tenants} tenants created", file=sys.stderr)
        fill_seconds = time.perf_counter() - started

        create = functools.partial(tenant_create, actor=Actor.command())
        clone = [timed(create, f"clone_{i}") for i in range(args.samples)]
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False, TENANT_BASE_SCHEMA=None):
            plain = [timed(create, f"plain_{i}") for i in range(args.samples)]
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, url)

    clone_median, plain_median = statistics.median(clone), statistics.median(plain)
    print(
        f"tenants before measuring:      {args.tenants} (created in {fill_seconds:.1f} s, "
        f"{fill_seconds / max(args.tenants, 1) * 1000:.0f} ms each)"
    )
    print(f"create one more, cloned:       {clone_median:.3f} s  (samples {', '.join(f'{s:.3f}' for s in clone)})")
    print(f"create one more, migrations:   {plain_median:.3f} s  (samples {', '.join(f'{s:.3f}' for s in plain)})")
    print(f"ratio migrations / cloned:     {plain_median / clone_median:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
