"""/api/sso: the tenant's single sign-on settings (admins only). The client secret is write-only."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.accounts.selectors import sso_settings_get
from apps.accounts.services.sso import MAX_SECRET_LENGTH, MAX_VALUE_LENGTH, MAX_VALUES_PER_ROLE, sso_settings_update
from apps.accounts.sso.backends import CALLBACK_URL_NAME
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView


def claim_values(role: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_VALUE_LENGTH),
        max_length=MAX_VALUES_PER_ROLE,
        required=False,
        help_text=f"Claim values that make a user {role}",
    )


class RoleValuesSerializer(serializers.Serializer):
    admin = claim_values("admin")
    operator = claim_values("operator")
    viewer = claim_values("viewer")


class SsoSettingsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether users may sign in through the provider")
    name = serializers.CharField(
        max_length=60, allow_blank=True, help_text='Shown on the sign-in page as "Sign in with <name>"'
    )
    issuer = serializers.CharField(
        max_length=500, allow_blank=True, help_text="The provider's issuer URL (https; discovery is read from it)"
    )
    client_id = serializers.CharField(max_length=255, allow_blank=True, help_text="certmate's client id there")
    client_secret = serializers.CharField(
        max_length=MAX_SECRET_LENGTH,
        allow_blank=True,
        required=False,
        write_only=True,
        help_text="certmate's client secret there (write-only; omit to keep it, unless issuer or client id change)",
    )
    has_client_secret = serializers.BooleanField(read_only=True, help_text="Whether a client secret is stored")
    scopes = serializers.CharField(max_length=300, help_text="Scopes asked for, space-separated (openid required)")
    role_claim = serializers.CharField(
        max_length=200, help_text="The claim whose values give the role (a name, or a dotted path)"
    )
    role_values = RoleValuesSerializer(help_text="Claim values per role; the highest role matched wins")
    sso_only = serializers.BooleanField(help_text="Refuse password sign-in for this tenant's users")
    redirect_uri = serializers.SerializerMethodField(help_text="The redirect URI to register at the provider")
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When they last changed")

    def get_redirect_uri(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse(CALLBACK_URL_NAME))


@extend_schema(tags=["settings"])
class SsoSettingsView(TenantAPIView):
    """Single sign-on through the tenant's OpenID Connect provider (admins only)."""

    serializer_class = SsoSettingsSerializer

    def required_role(self, request) -> Role:
        return Role.ADMIN

    def answer(self, config) -> Response:
        return Response(SsoSettingsSerializer(config, context={"request": self.request}).data)

    def get(self, request):
        return self.answer(sso_settings_get())

    def put(self, request):
        given = self.validated(SsoSettingsSerializer)
        given.setdefault("client_secret", None)
        return self.answer(sso_settings_update(values=given, actor=request_actor(request)))
