"""What a tenant's PKI publishes on its host for relying parties (TLS servers, browsers, openssl), without
authentication: each CA's CRL (/pki/<ca>/crl.der, crl.pem) and certificate (/pki/<ca>/ca.der, ca.pem),
the URLs its certificates carry (apps/certificates/pki/public_urls.py).

The host picks the tenant's schema and a CA is looked up by name there only: another tenant's CA, an
unknown name and a CA still waiting for its certificate are the same plain 404, which never repeats
the name. Answers cache as long as the CRL is valid (max-age to nextUpdate, Expires, Last-Modified,
an ETag of the CA and the CRL number); a conditional GET is answered 304 without reading the CRL.

Not rate-limited (unlike the API): relying parties behind one address are many and fetch on their
own schedule, an answer is stored bytes, and the one write a request can cause (the first CRL of a
CA, or a new one when beat stopped and the last expired) happens once per CA under its row lock."""

from __future__ import annotations

import base64
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from apps.certificates.models import CertificateAuthority, RevocationList
from apps.certificates.pki.crl_refresh import crl_authorities, crl_der, crl_for_serving, crl_latest
from apps.certificates.pki.services import NAME
from certmate.metrics import CRL_REQUESTS, count

CRL_TYPE = "application/pkix-crl"  # RFC 5280 section 4.2.1.13
CERTIFICATE_TYPE = "application/pkix-cert"  # RFC 5280 section 4.2.2.1
PEM_TYPE = "application/x-pem-file"
CA_MAX_AGE = 24 * 3600  # a CA's certificate never changes; a day bounds a cache's view of a deleted CA


def pem(der: bytes, label: str) -> bytes:
    text = base64.b64encode(der)
    lines = [text[start : start + 64] for start in range(0, len(text), 64)]
    return b"\n".join([f"-----BEGIN {label}-----".encode(), *lines, f"-----END {label}-----".encode(), b""])


def published_authority(name: str) -> CertificateAuthority | None:
    """The current tenant's CA named ``name`` that publishes (not pending), else None."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return None  # nothing a CA can be named reaches the database (NUL bytes, 10 KB of text)
    return crl_authorities().defer("private_key").filter(name=name).first()


def _not_found() -> HttpResponse:
    return HttpResponseNotFound(b"Not Found\n", content_type="text/plain; charset=utf-8")


def _conditional(request: HttpRequest, response: HttpResponse, *, max_age: int, expires: datetime | None, etag: str,
                 modified: datetime) -> HttpResponse | None:  # fmt: skip
    """Put the caching headers on ``response``; the 304 (or 412) to answer instead when the request's
    validators (If-None-Match, If-Modified-Since, ...) say so, else None."""
    response["Cache-Control"] = f"public, max-age={max_age}"
    if expires is not None:
        response["Expires"] = http_date(expires.timestamp())
    response["Last-Modified"] = http_date(modified.timestamp())
    response["ETag"] = quote_etag(etag)
    answered = get_conditional_response(
        request, etag=response["ETag"], last_modified=int(modified.timestamp()), response=response
    )
    return None if answered is response else answered


def crl_etag(authority: CertificateAuthority, crl: RevocationList) -> str:
    return f"{authority.fingerprint_sha256[:16]}-crl-{crl.number}"


def crl_response(
    request: HttpRequest, authority: CertificateAuthority, crl: RevocationList, *, encoding: str, filename: str = ""
) -> HttpResponse:
    """``crl`` (read without its DER) as DER or PEM, with caching headers from its times; 304 when the
    request's validators match, without reading the CRL. Shared with CertMate's /api/crl/download/<format>."""
    response = HttpResponse(content_type=CRL_TYPE if encoding == "der" else PEM_TYPE)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    seconds = max(0, int((crl.next_update - timezone.now()).total_seconds()))
    answered = _conditional(request, response, max_age=seconds, expires=crl.next_update,
                            etag=crl_etag(authority, crl), modified=crl.this_update)  # fmt: skip
    if answered is not None:
        count(CRL_REQUESTS, code=str(answered.status_code))
        return answered
    der = crl_der(crl)
    if der is None:  # pruned between the two reads (five newer CRLs meanwhile): serve the newest
        newest = crl_latest(authority)
        if newest is None or newest.pk == crl.pk:
            return _not_found()  # the CA is being deleted
        return crl_response(request, authority, newest, encoding=encoding, filename=filename)
    response.content = der if encoding == "der" else pem(der, "X509 CRL")
    count(CRL_REQUESTS, code=str(response.status_code))
    return response


def ca_response(request: HttpRequest, authority: CertificateAuthority, *, encoding: str) -> HttpResponse:
    response = HttpResponse(content_type=CERTIFICATE_TYPE if encoding == "der" else PEM_TYPE)
    answered = _conditional(request, response, max_age=CA_MAX_AGE, expires=None, etag=authority.fingerprint_sha256,
                            modified=authority.not_before or authority.created_at)  # fmt: skip
    if answered is not None:
        return answered
    certificate = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    response.content = certificate.public_bytes(Encoding.DER if encoding == "der" else Encoding.PEM)
    return response


@csrf_exempt
@require_safe
def crl_view(request: HttpRequest, ca: str, encoding: str) -> HttpResponse:
    """GET|HEAD /pki/<ca>/crl.der and crl.pem."""
    authority = published_authority(ca)
    crl = crl_for_serving(authority) if authority is not None else None
    if crl is None:
        return _not_found()
    return crl_response(request, authority, crl, encoding=encoding)


@csrf_exempt
@require_safe
def ca_view(request: HttpRequest, ca: str, encoding: str) -> HttpResponse:
    """GET|HEAD /pki/<ca>/ca.der and ca.pem: the CA's own certificate (AIA caIssuers)."""
    authority = published_authority(ca)
    if authority is None:
        return _not_found()
    return ca_response(request, authority, encoding=encoding)
