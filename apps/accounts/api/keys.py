"""CertMate's API keys (/api/keys) over certmate's API tokens (admins): a key is a token of the caller's
user, ``allowed_domains`` its certificate scope (null: none; CertMate's locked-out ``[]`` is refused: a key
that reaches nothing has no use)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.models import ApiToken, Role
from apps.accounts.scopes import MAX_NAME_LENGTH, MAX_SCOPE_ENTRIES
from apps.accounts.services.tokens import token_create, token_revoke
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView
from certmate.errors import NotFound

TAGS = ["tokens"]
MAX_KEY_NAME = 64  # CertMate's


class KeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_KEY_NAME, help_text="Key name is required (64 characters at most).")
    role = serializers.ChoiceField(Role.choices, default=Role.VIEWER, help_text="viewer (default), operator or admin.")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="When it expires; null: never.")
    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=MAX_NAME_LENGTH),
        required=False,
        allow_null=True,
        max_length=MAX_SCOPE_ENTRIES,
        help_text="Names and *. patterns the key is limited to; null or left out: no limit.",
    )
    is_agent = serializers.BooleanField(required=False, default=False, help_text="CertMate's; not kept.")

    def validate_allowed_domains(self, values):
        if values is not None and not [value for value in values if value.strip()]:
            raise serializers.ValidationError(
                "an empty list would let the key reach no certificate: leave allowed_domains out (or null) for all",
                code="invalid_scope",
            )
        return values


def key_document(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "role": token.role,
        "token_prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by.email if token.created_by_id else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
        "is_expired": token.is_expired,
        "allowed_domains": list(token.allowed_domains) or None,
        "is_agent": False,
    }


class AdminView(TenantAPIView):
    pagination_class = None
    serializer_class = KeyCreateSerializer

    def required_role(self, request) -> Role:
        return Role.ADMIN


class KeyListView(AdminView):
    @extend_schema(
        operation_id="certmate_keys_list",
        tags=TAGS,
        responses=inline_serializer(
            "CertMateKeys", {"keys": serializers.DictField(help_text="Each key by its id (text), never its hash.")}
        ),
        description="CertMate's list: every token of the tenant by id (as text), without its hash.",
    )
    def get(self, request):
        tokens = ApiToken.objects.select_related("created_by").order_by("pk")
        return Response({"keys": {str(token.pk): key_document(token) for token in tokens}})

    @extend_schema(
        operation_id="certmate_keys_create",
        tags=TAGS,
        request=KeyCreateSerializer,
        responses={
            201: inline_serializer(
                "CertMateKeyCreated",
                {
                    "id": serializers.CharField(help_text="The key's id (for DELETE /api/keys/{id})."),
                    "token": serializers.CharField(help_text="The key itself: shown this once."),
                },
            )
        },
        description="A token for the caller's user; the text (`token`) is shown this once. An admin key "
        "cannot be limited to certificates (400, as CertMate).",
    )
    def post(self, request):
        data = self.validated(KeyCreateSerializer)
        token, raw = token_create(
            user=request.user,
            role=data["role"],
            name=data["name"],
            expires_at=data.get("expires_at"),
            allowed_domains=data.get("allowed_domains"),
            actor=request_actor(request),
        )
        body = {"id": str(token.pk), **key_document(token), "token": raw}
        return Response(body, status=status.HTTP_201_CREATED)


class KeyDetailView(AdminView):
    @extend_schema(
        operation_id="certmate_keys_revoke",
        tags=TAGS,
        request=None,
        responses=inline_serializer("CertMateKeyRevoked", {"message": serializers.CharField()}),
    )
    def delete(self, request, key_id: str):
        token = (
            ApiToken.objects.filter(pk=int(key_id)).first()
            if key_id.isascii() and key_id.isdigit() and len(key_id) <= 12
            else None
        )
        if token is None:
            raise NotFound("API key not found")
        token_revoke(token=token, actor=request_actor(request))
        return Response({"message": "API key revoked"})
