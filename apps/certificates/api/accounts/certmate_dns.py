"""CertMate's DNS account endpoints (/api/dns/<provider>/accounts, /api/dns/accounts,
/api/dns-providers/accounts) over certmate's DNS accounts: CertMate's ``account_id`` is the account's name
(unique per provider), its ``config`` the provider's credential fields. Admins only, as in CertMate;
credentials are write-only (CertMate's ``********`` placeholder keeps a stored value)."""

from __future__ import annotations

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.acme.dns_accounts import dns_account_create, dns_account_delete, dns_account_update
from apps.certificates.acme.providers import get_provider
from apps.certificates.models import DnsAccount
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView
from certmate.errors import NotFound

TAGS = ["dns-accounts"]
MASKED = "********"  # CertMate's UI sends this back for a secret it did not change
# Keys of CertMate's account documents that are not credentials.
NOT_CREDENTIALS = frozenset({"name", "description", "account_id", "provider", "set_as_default", "is_default"})
MAX_CONFIG_KEYS = 50

Accounts = inline_serializer(
    "CertMateDnsAccount",
    many=True,
    fields={
        "account_id": serializers.CharField(help_text="The account's name (CertMate's id)."),
        "name": serializers.CharField(help_text="The same name."),
        "description": serializers.CharField(help_text="Empty: certmate keeps no description."),
        "configured": serializers.BooleanField(help_text="Whether credentials are stored."),
        "provider": serializers.CharField(help_text="The DNS provider."),
        "is_default": serializers.BooleanField(help_text="The provider's default account."),
    },
)
Done = inline_serializer(
    "CertMateDnsAccountDone",
    {
        "success": serializers.BooleanField(help_text="True: done."),
        "message": serializers.CharField(help_text="What was done."),
        "id": serializers.CharField(required=False, help_text="The account's name (CertMate's id)."),
    },
)


class CreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, help_text="The account's id (or account_id).")
    account_id = serializers.CharField(max_length=100, required=False, help_text="CertMate's name for name.")
    provider = serializers.CharField(max_length=50, required=False, help_text="Without a provider in the path.")
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=10_000),
        required=False,
        default=dict,
        help_text="The provider's credential fields (see /api/settings/dns-providers).",
    )
    set_as_default = serializers.BooleanField(
        required=False, default=False, help_text="Make it the provider's default account."
    )


def credentials_of(config: dict) -> dict:
    if len(config) > MAX_CONFIG_KEYS:
        raise serializers.ValidationError({"config": [f"at most {MAX_CONFIG_KEYS} fields"]}, code="invalid")
    return {key: value for key, value in config.items() if key not in NOT_CREDENTIALS}


def document(account: DnsAccount) -> dict:
    return {
        "account_id": account.name,
        "name": account.name,
        "description": "",
        "configured": bool(account.credentials),
        "provider": account.provider,
        "is_default": account.is_default,
    }


class PathOperationIds(AutoSchema):
    """One view serves several CertMate paths: each operation is named after its whole path."""

    def get_operation_id(self):
        return "certmate_" + "_".join(re.findall(r"[a-z0-9]+", self.path.lower())) + f"_{self.method.lower()}"


class CertMateDnsAPIView(TenantAPIView):
    schema = PathOperationIds()
    pagination_class = None
    serializer_class = CreateSerializer

    def required_role(self, request) -> Role:
        return Role.ADMIN

    def account(self, account_id: str, provider: str | None) -> DnsAccount:
        rows = DnsAccount.objects.filter(name=account_id)
        if provider is not None:
            rows = rows.filter(provider=get_provider(provider).key)
        found = list(rows[:2])
        if len(found) != 1:  # none, or one name under two providers without a provider to choose
            raise NotFound(f"no DNS account {account_id[:100]!r}" + (f" of {provider}" if provider else ""))
        return found[0]


class CertMateDnsAccountsView(CertMateDnsAPIView):
    @extend_schema(tags=TAGS, responses=Accounts)
    def get(self, request, provider: str | None = None):
        rows = DnsAccount.objects.order_by("provider", "name")
        if provider is not None:
            rows = rows.filter(provider=get_provider(provider).key)
        return Response([document(account) for account in rows])

    @extend_schema(tags=TAGS, request=CreateSerializer, responses=Done)
    def post(self, request, provider: str | None = None):
        data = self.validated(CreateSerializer)
        name = data.get("name") or data.get("account_id")
        provider = provider or data.get("provider")
        if not name or not provider:
            raise serializers.ValidationError({"name": ["Account name and provider required"]}, code="required")
        dns_account_create(
            name=name,
            provider=get_provider(provider).key,
            credentials=credentials_of(data["config"]),
            is_default=data["set_as_default"],
            actor=request_actor(request),
        )
        return Response({"success": True, "message": "Account created", "id": name})


class CertMateDnsAccountDetailView(CertMateDnsAPIView):
    @extend_schema(
        tags=TAGS,
        request=inline_serializer(
            "CertMateDnsAccountUpdate",
            {"set_as_default": serializers.BooleanField(help_text="Make it the provider's default account.")},
        ),
        responses=Done,
        description="Credential fields given at the top level replace those stored (the others stay); "
        f"{MASKED!r} keeps a stored value; set_as_default makes it its provider's default.",
    )
    def put(self, request, account_id: str, provider: str | None = None):
        account = self.account(account_id, provider)
        body = request.data if isinstance(request.data, dict) else {}
        given = {key: value for key, value in credentials_of(body).items() if value != MASKED}
        changes: dict = {}
        if given:
            if not all(isinstance(value, str) for value in given.values()):
                raise serializers.ValidationError({"config": ["credential fields are text"]}, code="invalid")
            changes["credentials"] = {**account.credentials, **given}
        if body.get("set_as_default") is True:
            changes["is_default"] = True
        dns_account_update(account=account, actor=request_actor(request), **changes)
        return Response({"success": True, "message": "Account updated", "id": account.name})

    @extend_schema(tags=TAGS, request=None, responses=Done)
    def delete(self, request, account_id: str, provider: str | None = None):
        dns_account_delete(account=self.account(account_id, provider), actor=request_actor(request))
        return Response({"success": True, "message": "Account deleted"})


class CertMateDnsProvidersView(TenantAPIView):
    """CertMate's GET /api/settings/dns-providers: each configured provider with its accounts (never their
    credentials: CertMate's configuration document held them, certmate returns none)."""

    pagination_class = None

    @extend_schema(
        operation_id="certmate_settings_dns_providers",
        tags=["settings"],
        responses={
            200: {
                "type": "object",
                "description": "each configured provider (by name) with its accounts by name and its default_account",
                "additionalProperties": {"type": "object"},
            }
        },
    )
    def get(self, request):
        providers: dict[str, dict] = {}
        for account in DnsAccount.objects.order_by("provider", "name"):
            entry = providers.setdefault(account.provider, {"accounts": {}, "default_account": None})
            entry["accounts"][account.name] = {
                "name": account.name,
                "description": "",
                "configured": bool(account.credentials),
                "credential_fields_set": sorted(account.credentials),
            }
            if account.is_default:
                entry["default_account"] = account.name
        return Response(providers)
