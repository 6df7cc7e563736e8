"""Role checks for tenant API views: the lower of the user's and the token's role must reach the view's."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework.permissions import BasePermission

from apps.accounts.models import ApiToken, Role
from apps.accounts.scopes import token_scope

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def effective_role(request) -> Role | None:
    """What this request may do: None when anonymous (or the user is inactive)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    token = request.auth
    if isinstance(token, ApiToken):
        return token.effective_role
    return Role(user.role)


def view_required_role(view, request) -> Role:
    """The role a view needs for this request: its ``required_role(request)``, else its ``required_roles``
    for the method, else viewer to read and operator to change."""
    if hasattr(view, "required_role"):
        return Role(view.required_role(request))
    declared = getattr(view, "required_roles", {})
    if request.method in declared:
        return Role(declared[request.method])
    return Role.VIEWER if request.method in SAFE_METHODS else Role.OPERATOR


class RolePermission(BasePermission):
    """Anonymous → 401 (DRF turns a refusal without credentials into NotAuthenticated); too low → 403."""

    code = "permission_denied"

    def has_permission(self, request, view) -> bool:
        if connection.schema_name == get_public_schema_name():
            self.message = "the tenant API is only served on a tenant's host"
            return False
        role = effective_role(request)
        if role is None:
            return False
        scope = token_scope(request.auth)
        if scope is not None and not getattr(view, "scoped_tokens", False):
            # Fail closed: only views that enforce a token's certificate scope serve a scoped token.
            self.message = (
                f"{request.method} {request.path} is not open to this token: it is limited to the certificates "
                f"{scope}; use a token without allowed_domains"
            )
            return False
        needed = view_required_role(view, request)
        if role.rank < needed.rank:
            via = "this token" if isinstance(request.auth, ApiToken) else "this user"
            self.message = f"{request.method} {request.path} needs the {needed} role; {via} has {role}"
            return False
        return True
