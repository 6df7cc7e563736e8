"""Accounts endpoints: API tokens, CA accounts, DNS accounts and providers, tenant settings.

Thin: serializers shape the input, services do the work, certmate.api.exceptions answers errors.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.api import serializers as s
from apps.accounts.models import ApiToken, CaAccount, DnsAccount, Role, TenantSettings
from apps.accounts.services.acme_accounts import ca_account_delete, dns_account_delete, tenant_settings_update
from apps.accounts.services.tokens import token_create, token_revoke
from apps.certificates.acme.providers import PROVIDERS
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView, TenantViewSet

ADMIN_WRITES = {"POST": Role.ADMIN, "PUT": Role.ADMIN, "PATCH": Role.ADMIN, "DELETE": Role.ADMIN}


@extend_schema(tags=["tokens"])
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """API tokens of the tenant's users (admin only). The token text is shown once, when created."""

    queryset = ApiToken.objects.select_related("user", "created_by")
    serializer_class = s.TokenSerializer

    def required_role(self, request) -> Role:
        return Role.ADMIN

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.TokenCreatedSerializer})
    def create(self, request):
        data = self.validated(s.TokenCreateSerializer)
        token, raw = token_create(
            user=data.get("user") or request.user,
            role=data["role"],
            name=data["name"],
            expires_at=data.get("expires_at"),
            actor=request_actor(request),
        )
        token.token = raw  # for the one answer that shows it
        return Response(s.TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Revoke the token: it stops working at once (the row stays, with its revocation date)."""
        token_revoke(token=self.get_object(), actor=request_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token and answer it (revoking twice keeps the first date)."""
        return Response(s.TokenSerializer(token_revoke(token=self.get_object(), actor=request_actor(request))).data)


class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Everyone may read; admins change. The serializers call the services."""

    required_roles = ADMIN_WRITES
    delete_service = None

    def perform_destroy(self, instance):
        type(self).delete_service(account=instance)


@extend_schema(tags=["ca-accounts"])
class CaAccountViewSet(AccountViewSet):
    """ACME CA accounts. Once registered at its CA, an account's directory, e-mail and EAB are fixed;
    one in use by certificates cannot be deleted (409 in_use)."""

    queryset = CaAccount.objects.all()
    serializer_class = s.CaAccountSerializer
    delete_service = ca_account_delete


@extend_schema(tags=["dns-accounts"])
class DnsAccountViewSet(AccountViewSet):
    """DNS provider accounts for DNS-01. Credentials are write-only; one in use cannot be deleted (409 in_use)."""

    queryset = DnsAccount.objects.all()
    serializer_class = s.DnsAccountSerializer
    delete_service = dns_account_delete


@extend_schema(tags=["dns-accounts"])
class DnsProviderListView(TenantAPIView):
    """The DNS providers certmate can validate with, and the credentials each needs."""

    pagination_class = None  # a short, fixed list

    @extend_schema(responses=s.DnsProviderSerializer(many=True))
    def get(self, request):
        providers = [PROVIDERS[key] for key in sorted(PROVIDERS)]
        return Response(s.DnsProviderSerializer(providers, many=True).data)


@extend_schema(tags=["settings"])
class TenantSettingsView(TenantAPIView):
    """The tenant's defaults: everyone may read, admins change them."""

    required_roles = {"PATCH": Role.ADMIN}
    serializer_class = s.TenantSettingsSerializer

    def get(self, request):
        return Response(s.TenantSettingsSerializer(TenantSettings.load()).data)

    def patch(self, request):
        given = s.TenantSettingsSerializer(TenantSettings.load(), data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        return Response(s.TenantSettingsSerializer(tenant_settings_update(**given.validated_data)).data)
