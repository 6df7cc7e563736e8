"""Liveness of what certmate needs: the database and the Celery broker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEALTH_PATH = "/api/health"
logger = logging.getLogger(__name__)


def failure_reason(exc: Exception) -> str:
    """What is said publicly: the kind of failure only. The details (hosts, users) go to the log."""
    logger.warning("health check failed: %s: %s", type(exc).__name__, exc)
    return type(exc).__name__


def check_database() -> str | None:
    """None when the database answers, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down"; the reason is reported
        return failure_reason(exc)
    return None


def check_broker() -> str | None:
    from certmate.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.CERTMATE_HEALTH_BROKER_TIMEOUT)
    except Exception as exc:  # kombu raises transport-specific errors
        return failure_reason(exc)
    return None


CHECKS = {"database": check_database, "broker": check_broker}


def health_report(*, known: dict[str, str] | None = None) -> dict[str, str | None]:
    """Why each dependency is down, or None when it answers. ``known`` problems are not re-checked."""
    known = known or {}
    return {name: known[name] if name in known else check() for name, check in CHECKS.items()}


def checks_text(report: dict[str, str | None]) -> dict[str, str]:
    """What is said of each check: "ok", or "down: <kind of failure>"."""
    return {name: f"down: {reason}" if reason else "ok" for name, reason in report.items()}


def report_response(report: dict[str, str | None], body: dict, *, error: str, code: str) -> JsonResponse:
    """``body`` with each check's state; 503 with ``error`` naming the checks that fail, when any does."""
    down = [name for name, reason in report.items() if reason]
    body = {**body, "checks": checks_text(report)}
    if down:
        body.update(error=f"{error}: " + ", ".join(down), code=code)
    return JsonResponse(body, status=503 if down else 200)


def health_response(report: dict[str, str | None], *, tenant: str | None) -> JsonResponse:
    status = "unavailable" if any(report.values()) else "ok"
    return report_response(report, {"status": status, "tenant": tenant}, error="unreachable", code="dependency_down")


@never_cache
@require_GET
def health(request):
    return health_response(health_report(), tenant=request.tenant.schema_name)
