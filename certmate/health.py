"""Liveness of what certmate needs: the database and the Celery broker."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def check_database() -> str | None:
    """None when the database answers, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down"; the reason is reported
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no answer'}"
    return None


def check_broker() -> str | None:
    from certmate.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.CERTMATE_HEALTH_BROKER_TIMEOUT)
    except Exception as exc:  # kombu raises transport-specific errors
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def health(request):
    problems = {
        name: reason for name, check in (("database", check_database), ("broker", check_broker)) if (reason := check())
    }
    checks = {name: ("down: " + problems[name]) if name in problems else "ok" for name in ("database", "broker")}
    body = {"status": "ok" if not problems else "unavailable", "checks": checks, "tenant": request.tenant.schema_name}
    if problems:
        body["error"] = "unreachable: " + ", ".join(problems)
        body["code"] = "dependency_down"
        return JsonResponse(body, status=503)
    return JsonResponse(body)
