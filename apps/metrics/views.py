"""GET /metrics: Prometheus' text format, computed from the database at scrape time."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.metrics.access import BEARER, Refusal, platform_refusal, tenant_refusal
from apps.metrics.exposition import CONTENT_TYPE, render
from apps.metrics.families import all_families
from apps.metrics.reads import scraped_schemas

METRICS_PATH = "metrics"


def _refused(refusal: Refusal) -> HttpResponse:
    response = HttpResponse(refusal.reason + "\n", status=refusal.status, content_type="text/plain; charset=utf-8")
    if refusal.status == 401:
        response["WWW-Authenticate"] = BEARER.capitalize()
    return response


def _scrape(schemas: list[str]) -> HttpResponse:
    return HttpResponse(render(all_families(schemas)), content_type=CONTENT_TYPE)


@never_cache
@require_GET
def platform_metrics(request):
    """Every active tenant's series (the platform's host)."""
    refusal = platform_refusal(request)
    return _refused(refusal) if refusal else _scrape(scraped_schemas())


@never_cache
@require_GET
def tenant_metrics(request):
    """This tenant's series only (its host), for its own API tokens: CertMate's /metrics."""
    refusal = tenant_refusal(request)
    return _refused(refusal) if refusal else _scrape(scraped_schemas(schema=request.tenant.schema_name))
