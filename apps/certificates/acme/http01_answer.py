"""``/.well-known/acme-challenge/<token>`` on any host: the CA's HTTP-01 request, answered from the
challenges the running orders published (HttpChallenge, public schema), whichever worker ran the order.

The CA asks on the certificate's own name, which is no tenant's host and not in ALLOWED_HOSTS, so
``Http01Middleware`` (before the tenant middleware) answers before anything resolves the host, reading
the Host header itself: the key authorization of the unexpired challenge with that token for exactly
that name, else 404. A token that cannot be one costs no query."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.utils import timezone

from apps.accounts.models import HttpChallenge
from apps.certificates.acme.http01 import TOKEN

CHALLENGE_PATH = "/.well-known/acme-challenge/"
MAX_HOST = 253


def request_hostname(request) -> str:
    """The name the client asked for (port and final dot dropped, lowercased); "" when it is no name."""
    meta = request.META
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        raw = meta["HTTP_X_FORWARDED_HOST"].split(",")[0].strip()
    else:
        raw = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
    domain, _ = split_domain_port(raw[: MAX_HOST + 7])  # lowercased, the final dot dropped
    return domain if len(domain) <= MAX_HOST else ""


def key_authorization_for(token: str, hostname: str) -> str | None:
    """What to answer for ``token`` asked on ``hostname``, or None."""
    if not hostname or not TOKEN.fullmatch(token):
        return None
    connection.set_schema_to_public()
    found = HttpChallenge.objects.filter(token=token, domain=hostname, expires_at__gt=timezone.now())
    return found.values_list("key_authorization", flat=True).first()


def _plain(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=us-ascii")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class Http01Middleware:
    """Answers GET and HEAD under /.well-known/acme-challenge/ at once, for every host; everything else
    goes down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.startswith(CHALLENGE_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _plain(405, "only GET and HEAD\n")
            response["Allow"] = "GET, HEAD"
            return response
        try:
            answer = key_authorization_for(path[len(CHALLENGE_PATH) :], request_hostname(request))
        except DatabaseError:
            return _plain(503, "the challenge store does not answer: try again\n")
        if answer is None:
            return _plain(404, "no such challenge\n")
        response = _plain(200, "" if request.method == "HEAD" else answer)
        response["Content-Length"] = str(len(answer))
        return response
