"""CertMate's PUT and DELETE /api/users/{username} (admins): certmate's users are e-mail addresses, so the
username is the user's e-mail; CertMate's ``enabled`` is ``is_active``. Through the same services as
/api/users/{id} (the last admin and one's own admin access stay protected: 409)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api.users import UserSerializer, UserUpdateSerializer, user_change
from apps.accounts.models import Role, User
from apps.accounts.services.users import MAX_EMAIL_LENGTH, user_delete
from certmate.actors import request_actor
from certmate.api.views import TenantAPIView
from certmate.errors import NotFound

Message = inline_serializer("CertMateUserMessage", {"message": serializers.CharField(help_text="What was done.")})


class CertMateUserUpdateSerializer(UserUpdateSerializer):
    enabled = serializers.BooleanField(required=False, help_text="CertMate's name for is_active.")

    def validate(self, attrs):
        if "enabled" in attrs:
            attrs["is_active"] = attrs.pop("enabled")
        if not attrs:
            raise serializers.ValidationError("Nothing to update", code="required")
        return attrs


class CertMateUserView(TenantAPIView):
    serializer_class = CertMateUserUpdateSerializer

    def required_role(self, request) -> Role:
        return Role.ADMIN

    def user(self, username: str) -> User:
        found = None
        if len(username) <= MAX_EMAIL_LENGTH:
            found = User.objects.filter(email=username.strip().lower()).first()
        if found is None:
            raise NotFound("User not found")
        return found

    @extend_schema(
        operation_id="certmate_users_retrieve",
        tags=["users"],
        responses=UserSerializer,
        description="The user with this e-mail (as GET /api/users/{id}).",
    )
    def get(self, request, username: str):
        return Response(UserSerializer(self.user(username)).data)

    @extend_schema(
        operation_id="certmate_users_update",
        tags=["users"],
        request=CertMateUserUpdateSerializer,
        responses=Message,
        description="CertMate's user edit: role, password, email, enabled; the username is the e-mail.",
    )
    def put(self, request, username: str):
        user = self.user(username)
        user_change(user, self.validated(CertMateUserUpdateSerializer), actor=request_actor(request))
        return Response({"message": "User updated"})

    @extend_schema(operation_id="certmate_users_delete", tags=["users"], request=None, responses=Message)
    def delete(self, request, username: str):
        user_delete(user=self.user(username), actor=request_actor(request))
        return Response({"message": "User deleted"})
