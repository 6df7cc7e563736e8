"""``/pki/ocsp`` on a tenant's host, without authentication (relying parties have no account): POST
with the DER request as the body (``application/ocsp-request``), or GET with it base64-encoded in the
path (RFC 6960 appendix A.1). Every answer is ``application/ocsp-response`` with HTTP 200, a refusal
included (an OCSP status, as OCSP clients expect: openssl reads no body from another HTTP status)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime

from django.http import HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.certificates.pki.ocsp import MAX_REQUEST_BYTES, OcspAnswer, Status, ocsp_respond, refusal_answer

OCSP_RESPONSE = "application/ocsp-response"
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
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def ocsp_endpoint(request, encoded: str = ""):
    if request.method == "POST":
        length = _content_length(request)
        # Too big: refused unread.
        answer = refusal_answer(Status.MALFORMED_REQUEST) if length is None else ocsp_respond(request.read(length))
        return _response(answer, cacheable=False)
    der = _decoded(encoded) if len(encoded) <= MAX_GET_CHARACTERS else None
    answer = refusal_answer(Status.MALFORMED_REQUEST) if der is None else ocsp_respond(der)
    return _response(answer, cacheable=True)
