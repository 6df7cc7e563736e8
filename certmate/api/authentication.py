"""Bearer tokens (``Authorization: Bearer cm_…``), looked up by hash in the current tenant's schema."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.services.tokens import token_use

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A token of another tenant is unknown here (its schema holds it), so it fails like any unknown one."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: the session (or nothing) decides
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header: give 'Bearer <token>' with one token")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("the token holds characters no token has") from None
        if connection.schema_name == get_public_schema_name():
            raise exceptions.AuthenticationFailed("API tokens are only valid on a tenant's host")
        token, refused = token_use(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed(refused)
        return token.user, token

    def authenticate_header(self, request):
        # A WWW-Authenticate header is what makes DRF answer 401 (not 403) to unauthenticated requests.
        return KEYWORD


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (cm_…) of this tenant: `manage.py token create` or POST /api/tokens.",
        }
