"""CertMate 2.x endpoints certmate answers on purpose with 501 and the reason (never a bare 404), so a
CertMate client learns what to use instead. The README's compatibility table lists them with the same
reasons. Included before the certificate routes (api/certificates/<domain> would take some of them)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from certmate.api.views import TenantAPIView

REASONS = {
    "api/cache/stats": "certmate keeps no certificate cache: every answer is read from the database",
    "api/cache/clear": "certmate keeps no certificate cache: every answer is read from the database",
    "api/diagnostics/snapshot": "operators read the platform's logs and `manage.py` status commands instead",
    "api/inventory": "certmate has no discovery inventory: its certificates are the ones it issued or imported",
    "api/inventory/config": "certmate has no discovery inventory",
    "api/inventory/scan": "certmate has no discovery inventory",
    "api/inventory/crypto-report": "certmate has no discovery inventory",
    "api/inventory/<str:fingerprint>/adopt": "certmate has no discovery inventory",
    "api/certificates/zombies/scan": "certmate deletes a certificate with its versions in one step: none is left "
    "behind to scan for",
    "api/certificates/check-dns-alias": "certmate validates with the DNS account named per certificate; it has no "
    "DNS alias mode",
    "api/certificates/<str:domain>/dns-alias-check": "certmate has no DNS alias mode",
    "api/certificates/deployment-status/browser": "certmate checks deployments itself: GET "
    "/api/certificates/<domain>/deployment-status",
    "api/deploy/config": "certmate runs no deploy hooks: consumers pick certificates up from the storage target "
    "(/api/storage); POST /api/certificates/<domain>/deploy publishes one again",
    "api/deploy/test/<str:hook_id>": "certmate runs no deploy hooks",
    "api/deploy/history": "certmate runs no deploy hooks: publications are listed at /api/storage/publications",
    "api/storage/info": "use GET /api/storage (the active target, never its credentials)",
    "api/storage/config": "use GET and PUT /api/storage (a target is tested before certmate switches to it)",
    "api/storage/migrate": "use PUT /api/storage (every current version is published to the new target) or "
    "`manage.py storage migrate`",
    "api/storage/azure-keyvault/backfill-certificates": "switching to a target publishes every current version "
    "to it; `manage.py storage resync` publishes what it lacks",
    "api/settings/rate-limits": "rate limits are the platform's (CERTMATE_API_RATE_USER, CERTMATE_API_RATE_ANON), "
    "not a tenant setting",
    "api/audit/public-key": "certmate's audit log is a hash chain without a signing key: keep /api/audit/verify's "
    "head_hash",
    "api/events/stream": "poll GET /api/certificates/jobs/<id> and GET /api/activity instead",
    "api/auth/login": "API clients use bearer tokens; people sign in to the portal at /login/",
    "api/auth/logout": "API clients use bearer tokens; people sign out of the portal",
    "api/auth/me": "API clients use bearer tokens; people sign in to the portal at /login/",
    "api/auth/config": "sign-in settings are the portal's (single sign-on: /api/sso)",
}


class NotSupportedView(TenantAPIView):
    """Answers anyone (nothing is read): 501 with why and what to use instead."""

    permission_classes = [AllowAny]
    reason = ""

    @extend_schema(exclude=True)  # not part of certmate's API
    def answer(self, request, *args, **kwargs):
        body = {"error": f"{request.path}: not in certmate: {self.reason}", "code": "not_supported"}
        return Response(body, status=status.HTTP_501_NOT_IMPLEMENTED)

    get = post = put = patch = delete = answer


urlpatterns = [
    path(route, NotSupportedView.as_view(reason=reason), name=f"certmate-unsupported-{number}")
    for number, (route, reason) in enumerate(REASONS.items())
]
