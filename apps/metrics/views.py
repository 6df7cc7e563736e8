"""GET /metrics: Prometheus' text format, computed from the database at scrape time."""

from __future__ import annotations

import re
import zlib

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.metrics.access import BEARER, Refusal, platform_refusal, tenant_refusal
from apps.metrics.exposition import CONTENT_TYPE, render
from apps.metrics.families import all_families
from apps.metrics.reads import scraped_schemas

METRICS_PATH = "metrics"
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _refused(refusal: Refusal) -> HttpResponse:
    response = HttpResponse(refusal.reason + "\n", status=refusal.status, content_type="text/plain; charset=utf-8")
    if refusal.status == 401:
        response["WWW-Authenticate"] = BEARER.capitalize()
    return response


def _scrape(request, schemas: list[str]) -> HttpResponse:
    pieces = render(all_families(schemas))
    if not ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        return HttpResponse(pieces, content_type=CONTENT_TYPE)
    # Prometheus asks for gzip. Level 1: 25x smaller (50 MB -> 2 MB) in about 0.17 s, less than sending
    # 50 MB takes on a 1 Gbit/s link; level 6 costs 2.4x that for 30x (bench/metrics.py).
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    response = HttpResponse([*map(compressor.compress, pieces), compressor.flush()], content_type=CONTENT_TYPE)
    response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


@never_cache
@require_GET
def platform_metrics(request):
    """Every active tenant's series (the platform's host)."""
    refusal = platform_refusal(request)
    return _refused(refusal) if refusal else _scrape(request, scraped_schemas())


@never_cache
@require_GET
def tenant_metrics(request):
    """This tenant's series only (its host), for its own API tokens: CertMate's /metrics."""
    refusal = tenant_refusal(request)
    return _refused(refusal) if refusal else _scrape(request, scraped_schemas(schema=request.tenant.schema_name))
