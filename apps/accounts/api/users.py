"""/api/users: the tenant's users (admins only). Passwords are write-only; the services refuse taking away
the tenant's last admin or the caller's own admin access (409 last_admin, own_account)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from apps.accounts.models import Role, User
from apps.accounts.services.users import (
    MAX_EMAIL_LENGTH,
    MAX_FULL_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    user_create,
    user_delete,
    user_set_password,
    user_update,
)
from apps.accounts.validators import validate_contact_email
from certmate.actors import request_actor
from certmate.api.fields import IntegerField
from certmate.api.views import TenantViewSet

UNSET = object()


def _email_field(**kwargs) -> serializers.EmailField:
    return serializers.EmailField(max_length=MAX_EMAIL_LENGTH, validators=[validate_contact_email], **kwargs)


def _password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_PASSWORD_LENGTH,
        write_only=True,
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


class UserSerializer(serializers.Serializer):
    id = IntegerField(read_only=True, help_text="The user's id")
    email = serializers.EmailField(read_only=True, help_text="E-mail address: what the user signs in with")
    full_name = serializers.CharField(read_only=True, help_text="The user's name")
    role = serializers.ChoiceField(Role.choices, read_only=True, help_text="What the user may do")
    is_active = serializers.BooleanField(read_only=True, help_text="Whether the user may sign in at all")
    has_password = serializers.SerializerMethodField(
        help_text="Whether a password is set (false: the user signs in through single sign-on only)"
    )
    last_login = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Last sign-in, if any")
    date_joined = serializers.DateTimeField(read_only=True, help_text="When the user was created")

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_password(self, user: User) -> bool:
        return user.has_usable_password()


class UserCreateSerializer(serializers.Serializer):
    email = _email_field(help_text="E-mail address, unique in the tenant")
    role = serializers.ChoiceField(Role.choices, default=Role.VIEWER, help_text="What the user may do (default viewer)")
    full_name = serializers.CharField(
        max_length=MAX_FULL_NAME_LENGTH, required=False, default="", allow_blank=True, help_text="The user's name"
    )
    password = _password_field(
        help_text="A password (write-only). Omit it: the user signs in through single sign-on until one is set"
    )


class UserUpdateSerializer(serializers.Serializer):
    email = _email_field(required=False, help_text="A new e-mail address")
    role = serializers.ChoiceField(Role.choices, required=False, help_text="A new role")
    full_name = serializers.CharField(
        max_length=MAX_FULL_NAME_LENGTH, required=False, allow_blank=True, help_text="A new name"
    )
    is_active = serializers.BooleanField(required=False, help_text="false: the user can no longer sign in")
    password = _password_field(
        allow_null=True, help_text="A new password (write-only); null removes it (single sign-on only)"
    )


def user_change(user: User, data: dict, *, actor) -> User:
    """A validated UserUpdateSerializer's changes, the password among them, in one transaction."""
    data = dict(data)
    password = data.pop("password", UNSET)
    with transaction.atomic():
        user = user_update(user=user, actor=actor, **data)
        if password is not UNSET:
            user = user_set_password(user=user, password=password, actor=actor)
    return user


@extend_schema(tags=["users"])
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantViewSet,
):
    """The tenant's users (admins only)."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def required_role(self, request) -> Role:
        return Role.ADMIN

    def answer(self, user: User, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(UserSerializer(user).data, status=status_code)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request):
        """Create a user (409 user_exists when the e-mail address is taken)."""
        user = user_create(**self.validated(UserCreateSerializer), actor=request_actor(request))
        return self.answer(user, status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request, pk=None):
        """Change a user's e-mail, name, role, active flag or password; what is not given stays. Taking away
        the tenant's last active admin (409 last_admin) or your own admin access (409 own_account) is refused."""
        data = self.validated(UserUpdateSerializer)
        return self.answer(user_change(self.get_object(), data, actor=request_actor(request)))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete a user and its API tokens (the tenant's last active admin and your own account: 409)."""
        user_delete(user=self.get_object(), actor=request_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
