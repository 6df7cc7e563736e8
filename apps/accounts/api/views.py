"""API tokens: list, create (the token text is shown once), revoke.

Thin: serializers shape the input, services do the work, certmate.api.exceptions answers errors.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.api import serializers as s
from apps.accounts.models import ApiToken, Role
from apps.accounts.services.tokens import token_create, token_revoke
from certmate.actors import request_actor
from certmate.api.views import TenantViewSet


@extend_schema(tags=["tokens"])
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """API tokens of the tenant's users (admin only). The token text is shown once, when created."""

    queryset = ApiToken.objects.select_related("user", "created_by")
    serializer_class = s.TokenSerializer

    def required_role(self, request) -> Role:
        # Admins only, and no admin token has a certificate scope: a scoped token never reaches here.
        return Role.ADMIN

    @extend_schema(request=s.TokenCreateSerializer, responses={201: s.TokenCreatedSerializer})
    def create(self, request):
        data = self.validated(s.TokenCreateSerializer)
        token, raw = token_create(
            user=data.get("user") or request.user,
            role=data["role"],
            name=data["name"],
            expires_at=data.get("expires_at"),
            allowed_domains=data.get("allowed_domains"),
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
