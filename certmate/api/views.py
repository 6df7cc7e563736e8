"""Base classes of every tenant API view: bearer tokens or sessions, role checks, throttles, paging."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.accounts.scopes import CertificateScope, token_scope
from certmate.api.authentication import BearerTokenAuthentication
from certmate.api.exceptions import ApiError, status_of
from certmate.api.pagination import OptionalPagination
from certmate.api.permissions import RolePermission
from certmate.api.throttling import THROTTLE_CLASSES
from certmate.errors import NotFound


class TenantAPIMixin:
    """Declare ``required_roles = {"POST": Role.ADMIN, ...}`` (default: viewer reads, operator writes) or
    override ``required_role(self, request) -> Role``.

    A token limited to some certificates (allowed_domains) is refused by every view but those declaring
    ``scoped_tokens = True``, which narrow what they read with ``in_scope`` / ``scope_check`` and what
    they create with ``scope_require``."""

    scoped_tokens = False

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

    @property
    def certificate_scope(self) -> CertificateScope | None:
        return token_scope(self.request.auth)

    def in_scope(self, rows, field: str = "identifier"):
        """``rows`` narrowed to the certificates the request's token may see (all without a scope)."""
        scope = self.certificate_scope
        return rows if scope is None else rows.filter(scope.q(field))

    def scope_check(self, name: str, message: str) -> None:
        """Out of the token's scope answers as if it did not exist (404 with ``message``)."""
        scope = self.certificate_scope
        if scope is not None and not scope.allows(name):
            raise NotFound(message)

    def scope_require(self, names) -> None:
        """A new certificate (or new names) must lie wholly in the token's scope: 403 otherwise."""
        scope = self.certificate_scope
        outside = [name for name in names if name and scope is not None and not scope.allows(str(name))]
        if outside:
            raise ApiError(
                f"this token may only act on the certificates {scope}: {', '.join(map(str, outside[:5]))} lies outside",
                "domain_out_of_scope",
            )

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
