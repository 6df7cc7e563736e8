"""A plain-text pg_dump of the whole test database (every schema), for tests that look for secrets in it."""

from __future__ import annotations

import re
import subprocess

from django.db import connection

from certmate.database import embedded_bin_dir
from tests.tools import find_program, missing_tool


def pg_dump_program() -> str:
    """A pg_dump at least as new as the server (the embedded PostgreSQL's own first)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000
    candidates = [find_program("pg_dump", extra_dirs=[embedded_bin_dir()] if embedded_bin_dir() else [])]
    candidates += [find_program("pg_dump", extra_dirs=[f"/usr/lib/postgresql/{server_major}/bin"])]
    for program in filter(None, candidates):
        version = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout
        if int(re.search(r"(\d+)\.", version).group(1)) >= server_major:
            return program
    missing_tool(f"no pg_dump of PostgreSQL {server_major} or newer (install postgresql-client-{server_major})")


def database_dump(program: str | None = None) -> str:
    """What pg_dump writes for the test database: every schema's tables and rows, as SQL text."""
    db = connection.settings_dict
    argv = [program or pg_dump_program(), "--no-password", "--dbname", db["NAME"]]
    argv += ["--username", db["USER"] or "postgres"]
    if db["HOST"]:
        argv += ["--host", db["HOST"]]
    if db["PORT"]:
        argv += ["--port", str(db["PORT"])]
    env = {"PGPASSWORD": db["PASSWORD"] or "", "PATH": "/usr/bin:/bin"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=120).stdout
