"""Base classes of every tenant API view: bearer tokens or sessions, role checks, throttles, paging."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from certmate.api.authentication import BearerTokenAuthentication
from certmate.api.exceptions import status_of
from certmate.api.pagination import OptionalPagination
from certmate.api.permissions import RolePermission
from certmate.api.throttling import THROTTLE_CLASSES


class TenantAPIMixin:
    """Declare ``required_roles = {"POST": Role.ADMIN, ...}`` (default: viewer reads, operator writes) or
    override ``required_role(self, request) -> Role``."""

    # Sessions are the portal's (CSRF enforced by DRF); tokens are for scripts.
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [RolePermission]
    throttle_classes = THROTTLE_CLASSES
    pagination_class = OptionalPagination

    def validated(self, serializer_class, data=None) -> dict:
        """The request's body (or ``data``, e.g. the query string) checked by ``serializer_class``; an
        invalid one answers 400 with its field errors."""
        form = serializer_class(data=self.request.data if data is None else data)
        form.is_valid(raise_exception=True)
        return form.validated_data

    def initial(self, request, *args, **kwargs):
        # DRF throttles after authentication and permissions, so refused credentials (token guessing,
        # floods without a token) would never count: count them against the caller's address, then refuse.
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            self.check_throttles(request)
            raise


class TenantAPIView(TenantAPIMixin, APIView):
    pass


class TenantViewSet(TenantAPIMixin, GenericViewSet):
    # Ids are ASCII digits: int() and the database would also read U+0661 (Arabic-Indic one) as 1.
    lookup_value_regex = "[0-9]+"


def api_page_not_found(request, exception=None):
    """handler404 of tenant hosts: an unknown /api/ path answers in the API's error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": f"no API endpoint at {request.path}", "code": "not_found"}, status=status_of("not_found")
        )
    return page_not_found(request, exception)
