"""``/pki/ocsp`` on a tenant's host, without authentication (relying parties have no account): POST
with the DER request as the body (``application/ocsp-request``), or GET with it base64-encoded in the
path (RFC 6960 appendix A.1). Every answer is ``application/ocsp-response`` with HTTP 200, a refusal
included (an OCSP status, as OCSP clients expect: openssl reads no body from another HTTP status).

Every TLS client of every certificate may ask, so ``OcspMiddleware`` (first in MIDDLEWARE) answers these
paths before the rest of the stack runs (sessions, CSRF, authentication, the URL resolver: nothing an
anonymous binary protocol uses) and finds the tenant by host in a per-process cache; the URL patterns
route the same view when it is not installed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_tenants.utils import get_public_schema_name

from apps.accounts.middleware import TenantMiddleware
from apps.accounts.models import Domain, Tenant
from apps.certificates.pki.ocsp import MAX_REQUEST_BYTES, OcspAnswer, Status, ocsp_respond, refusal_answer
from apps.certificates.pki.public_urls import OCSP_PATH
from certmate.metrics import OCSP_REQUESTS, count

OCSP_RESPONSE = "application/ocsp-response"
# /pki/ocsp/crl.der (and the like) is the CRL or certificate of a CA named "ocsp" (/pki/<ca>/...), never
# a request: base64 of DER starts with "M".
PUBLICATION_FILE = re.compile(r"/(?:crl|ca)\.(?:der|pem)/?\Z")
# A GET request is for small requests (RFC 9919 5: under 255 bytes encoded); bigger ones use POST.
MAX_GET_CHARACTERS = 2048
_URL_SAFE = str.maketrans("-_", "+/")


def _decoded(encoded: str) -> bytes | None:
    """The DER of a GET request: standard base64 (its '/', '+', '=' URL-escaped or not) or the URL-safe
    alphabet, padding optional; None for anything else."""
    text = encoded.translate(_URL_SAFE).rstrip("=")
    if not text or len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _content_length(request) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if 0 <= length <= MAX_REQUEST_BYTES else None


def _counted(answer: OcspAnswer) -> OcspAnswer:
    """Counted for /metrics by result: good, revoked, unknown, or the refusal (malformed_request, ...)."""
    result = answer.cert_status.name if answer.successful and answer.cert_status else answer.status.name
    count(OCSP_REQUESTS, result=result.lower())
    return answer


def _response(answer: OcspAnswer, *, cacheable: bool) -> HttpResponse:
    response = HttpResponse(answer.der, content_type=OCSP_RESPONSE)
    if cacheable and answer.successful:
        # RFC 5019 6.2: caches may keep a GET answer until its nextUpdate, no longer.
        now = datetime.now(UTC)
        seconds = max(0, int((answer.next_update - now).total_seconds()))
        response["Cache-Control"] = f"max-age={seconds}, public, no-transform, must-revalidate"
        response["Last-Modified"] = http_date(answer.this_update.timestamp())
        response["Expires"] = http_date(answer.next_update.timestamp())
        response["ETag"] = '"' + hashlib.sha1(answer.der, usedforsecurity=False).hexdigest() + '"'
    else:
        response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def ocsp_endpoint(request, encoded: str = ""):
    if request.method == "POST":
        length = _content_length(request)
        # Too big: refused unread.
        answer = refusal_answer(Status.MALFORMED_REQUEST) if length is None else ocsp_respond(request.read(length))
        return _response(_counted(answer), cacheable=False)
    der = _decoded(encoded) if len(encoded) <= MAX_GET_CHARACTERS else None
    answer = refusal_answer(Status.MALFORMED_REQUEST) if der is None else ocsp_respond(der)
    return _response(_counted(answer), cacheable=True)


HOST_TTL = 30.0  # seconds a host's tenant is kept (a deactivated tenant stops answering within this)
MAX_HOSTS = 1024
_hosts: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()
_hosts_lock = threading.Lock()


def _tenant_for(hostname: str) -> Tenant | None:
    """The active tenant served at ``hostname`` (exactly as TenantMiddleware finds it), kept a while."""
    cached = _hosts.get(hostname)
    if cached is not None and time.monotonic() - cached[0] < HOST_TTL:
        return cached[1]
    connection.set_schema_to_public()
    found = Domain.objects.select_related("tenant").filter(domain=hostname, tenant__is_active=True)
    domain = found.exclude(tenant__schema_name=get_public_schema_name()).first()  # the platform's host
    tenant = domain.tenant if domain is not None else None
    with _hosts_lock:
        _hosts[hostname] = (time.monotonic(), tenant)
        _hosts.move_to_end(hostname)
        while len(_hosts) > MAX_HOSTS:
            _hosts.popitem(last=False)
    return tenant


def ocsp_hosts_forget() -> None:
    with _hosts_lock:
        _hosts.clear()


class OcspMiddleware:
    """Answers /pki/ocsp on a tenant's host at once; every other request (and an unknown host's, which
    gets TenantMiddleware's 404) goes down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path != OCSP_PATH and not (path.startswith(OCSP_PATH + "/") and not PUBLICATION_FILE.search(path)):
            return self.get_response(request)
        try:
            tenant = _tenant_for(TenantMiddleware.hostname_from_request(request))
        except DatabaseError:  # RFC 6960 2.3: tryLater, not an HTTP error the client cannot read
            return _response(refusal_answer(Status.TRY_LATER), cacheable=False)
        if tenant is None:
            return self.get_response(request)
        request.tenant = tenant
        connection.set_tenant(tenant)
        return ocsp_endpoint(request, encoded=path[len(OCSP_PATH) + 1 :])
