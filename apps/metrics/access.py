"""Who may scrape. The platform's host: the platform's token (CERTMATE_METRICS_TOKEN) and/or a client
network (CERTMATE_METRICS_ALLOW), every one configured must pass, and with neither configured /metrics
does not exist there (404). A tenant's host: an API token of that tenant (any role: the figures are what
a viewer reads anyway), unscoped, and only that tenant's series."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from django.conf import settings

from apps.accounts.services.tokens import token_use
from certmate.actors import client_address

BEARER = "bearer"


@dataclass(frozen=True)
class Refusal:
    status: int  # 401, 403 or 404
    reason: str


def bearer_token(request) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != BEARER or not value.strip():
        return None
    return value.strip()


def _from_allowed_network(request) -> bool:
    address = client_address(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(network) for network in settings.CERTMATE_METRICS_ALLOW)


def platform_refusal(request) -> Refusal | None:
    """Why this request may not read the platform's metrics, or None."""
    expected, networks = settings.CERTMATE_METRICS_TOKEN, settings.CERTMATE_METRICS_ALLOW
    if not expected and not networks:
        return Refusal(404, "not found")  # never open by default: it does not exist until configured
    if networks and not _from_allowed_network(request):
        return Refusal(403, "this address may not read metrics (CERTMATE_METRICS_ALLOW)")
    if expected:
        given = bearer_token(request)
        if given is None:
            return Refusal(401, "give the platform's metrics token: Authorization: Bearer <token>")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return Refusal(401, "wrong metrics token")
    return None


def tenant_refusal(request) -> Refusal | None:
    """Why this request may not read its tenant's metrics, or None."""
    raw = bearer_token(request)
    if raw is None:
        return Refusal(401, "give an API token of this tenant: Authorization: Bearer <token>")
    token, refused = token_use(raw=raw)
    if token is None:
        return Refusal(401, refused)
    if token.allowed_domains:
        return Refusal(403, "this token may see only some certificates; metrics cover all: use an unscoped token")
    return None
