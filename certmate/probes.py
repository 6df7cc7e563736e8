"""Probes for orchestrators and CertMate's clients, on every host.

/health/live   the process answers (no database, nothing else): restart it when this fails.
/health/ready  200 when it can serve: the database, the broker, no migration left to apply, the
               encryption keys encrypt and decrypt; else 503, naming what is not ready (never a host,
               a user or a key).
/health        CertMate's shape: always 200 while the process serves, ``status`` healthy or degraded.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from certmate import encryption
from certmate.health import checks_text, failure_reason, health_report, report_response

_PROBE = "certmate readiness probe"
_migrated: set[str] = set()  # schemas seen fully migrated by this process (stays true until a deploy)


def check_migrations() -> str | None:
    """None when the current schema has every migration applied, else why not."""
    schema = connection.schema_name
    if schema in _migrated:
        return None
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # no django_migrations table, a broken migration file: not ready either way
        return failure_reason(exc)
    if plan:
        return f"{len(plan)} migrations not applied"
    _migrated.add(schema)
    return None


def check_encryption() -> str | None:
    """None when the first key encrypts and the keys decrypt what it encrypted."""
    try:
        if encryption.decrypt(encryption.encrypt(_PROBE)) != _PROBE:
            return "keys do not read back what they encrypt"
    except Exception as exc:  # a bad key list (ImproperlyConfigured), a DecryptionError
        return failure_reason(exc)
    return None


def readiness_report() -> dict[str, str | None]:
    report = health_report()
    if report["database"]:  # the migrations cannot be read either: say so once, do not wait twice
        report["migrations"] = "database down"
    else:
        report["migrations"] = check_migrations()
    report["encryption"] = check_encryption()
    return report


@lru_cache(maxsize=1)
def version() -> str:
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as project:
            return str(tomllib.load(project)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def ready(request):
    report = readiness_report()
    return report_response(report, {"ready": not any(report.values())}, error="not ready", code="not_ready")


@never_cache
@require_GET
def certmate_health(request):
    """CertMate's /health: 200 while serving; ``degraded`` with the checks that fail (load balancers
    keep routing to a process that answers; /health/ready is the probe that says 503)."""
    report = health_report()
    return JsonResponse({
        "status": "degraded" if any(report.values()) else "healthy",
        "version": version(),
        "checks": checks_text(report),
    })  # fmt: skip
