"""The README's whole-platform backup, run for real: pg_dump of the database, pg_restore into an empty one,
and certmate on the restored database (same encryption keys) finds its tenants, their intact audit chains
and readable secrets."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.db import connection
from django_tenants.utils import tenant_context
from psycopg import sql

from tests.database_dump import pg_dump_program
from tests.factories import certificate_make
from tests.worker import database_url_of_test_db

ROOT = Path(__file__).resolve().parents[2]


def _with_database(url: str, name: str) -> str:
    """The same server, another database (an embedded server's socket folder rides in the query: kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def client_programs() -> tuple[str, str]:
    """pg_dump and pg_restore of the server's own major version when installed (a newer pg_restore writes
    settings an older server refuses), else the newest found."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    own = Path(f"/usr/lib/postgresql/{major}/bin")
    folder = own if (own / "pg_restore").exists() else Path(pg_dump_program()).parent
    return str(folder / "pg_dump"), str(folder / "pg_restore")


def manage(database_url: str, var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "certmate.settings.test",
        "CERTMATE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_pg_dump_and_pg_restore_bring_the_platform_back(fresh_tenant, tmp_path):
    tenant = fresh_tenant(admin=True)
    with tenant_context(tenant):
        certificate_make("dumped.example.com")
    dump_program, restore_program = client_programs()
    source_url = database_url_of_test_db()
    dump = tmp_path / "certmate.dump"
    subprocess.run([dump_program, "--format=custom", f"--file={dump}", source_url], check=True, timeout=300)

    restored = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:6]}"
    admin_url = _with_database(source_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(restored)))
    restored_url = _with_database(source_url, restored)
    try:
        subprocess.run([restore_program, "--no-owner", f"--dbname={restored_url}", str(dump)], check=True, timeout=300)

        verified = manage(restored_url, tmp_path, "audit", "verify", "--tenant", tenant.schema_name)
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.strip().endswith("OK")
        # Exporting decrypts every secret of the tenant: the restored rows open with the same keys.
        exported = manage(restored_url, tmp_path, "tenant", "export", tenant.schema_name, str(tmp_path / "a.backup"))
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout.startswith(f"exported tenant {tenant.schema_name}: ")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(restored)))
