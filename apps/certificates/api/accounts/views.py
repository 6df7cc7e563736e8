"""CA accounts, DNS accounts and providers, tenant settings.

Thin: serializers shape the input, services do the work, certmate.api.exceptions answers errors.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.acme.accounts import ca_account_delete
from apps.certificates.acme.directory import ca_account_directory_read
from apps.certificates.acme.dns_accounts import dns_account_delete
from apps.certificates.acme.dns_test import dns_account_test
from apps.certificates.acme.providers import PROVIDERS
from apps.certificates.api.accounts import serializers as s
from apps.certificates.models import CaAccount, DnsAccount, TenantSettings
from apps.certificates.services.settings import tenant_settings_update
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView, TenantViewSet

ADMIN_WRITES = {"POST": Role.ADMIN, "PUT": Role.ADMIN, "PATCH": Role.ADMIN, "DELETE": Role.ADMIN}


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
        type(self).delete_service(account=instance, actor=request_actor(self.request))


@extend_schema(tags=["ca-accounts"])
class CaAccountViewSet(AccountViewSet):
    """ACME CA accounts. Once registered at its CA, an account's directory, e-mail and EAB are fixed;
    one in use by certificates cannot be deleted (409 in_use)."""

    queryset = CaAccount.objects.all()
    serializer_class = s.CaAccountSerializer
    delete_service = ca_account_delete

    @extend_schema(request=None, responses=s.CaAccountSerializer)
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Read the CA's directory again: the profiles it offers and its ARI URL (502 ca_unreachable when the
        CA does not answer with a directory; the last reading stays)."""
        account = ca_account_directory_read(account=self.get_object(), actor=request_actor(request))
        return Response(s.CaAccountSerializer(account).data)


@extend_schema(tags=["dns-accounts"])
class DnsAccountViewSet(AccountViewSet):
    """DNS provider accounts for DNS-01. Credentials are write-only; one in use cannot be deleted (409 in_use)."""

    queryset = DnsAccount.objects.all()
    serializer_class = s.DnsAccountSerializer
    delete_service = dns_account_delete

    @extend_schema(request=s.DnsAccountTestSerializer, responses=s.DnsTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Check the account without changing anything (rfc2136: a TSIG-signed SOA query); 200 either way."""
        given = s.DnsAccountTestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = dns_account_test(account=self.get_object(), actor=request_actor(request), **given.validated_data)
        return Response(s.DnsTestResultSerializer(result).data)


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
        settings = tenant_settings_update(actor=request_actor(request), **given.validated_data)
        return Response(s.TenantSettingsSerializer(settings).data)
