"""Shapes of the API token endpoints."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from apps.accounts.models import Role, User
from apps.accounts.scopes import MAX_NAME_LENGTH, MAX_SCOPE_ENTRIES, allowed_domains_clean
from apps.accounts.services.tokens import MAX_TOKEN_DAYS
from certmate.api.fields import IntegerField

# -- API tokens ---------------------------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    id = IntegerField(read_only=True, help_text="The token's id (for revoking it)")
    name = serializers.CharField(read_only=True, help_text="What the token is for")
    prefix = serializers.CharField(read_only=True, help_text="The token's first characters, to recognise it")
    role = serializers.ChoiceField(Role.choices, read_only=True, help_text="The token's role (capped by its user's)")
    user = serializers.EmailField(source="user.email", read_only=True, help_text="E-mail of the token's user")
    created_by = serializers.EmailField(
        source="created_by.email",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="E-mail of whoever created it through the API (null: the command line)",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="When the token was created")
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When it stops working, if ever")
    last_used_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Last use (to the minute), if any"
    )
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When it was revoked, if it was")
    allowed_domains = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The certificates it is limited to (empty: no limit)"
    )


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself: shown this once, store it now")


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True, help_text="A label")
    role = serializers.ChoiceField(Role.choices, help_text="The token's role: at most its user's role")
    expires_days = IntegerField(
        min_value=1, max_value=MAX_TOKEN_DAYS, required=False, help_text="Days until it expires (or expires_at)"
    )
    expires_at = serializers.DateTimeField(required=False, help_text="When it expires (or expires_days); default never")
    user = serializers.EmailField(required=False, help_text="E-mail of the user it acts for; default: the caller")
    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=MAX_NAME_LENGTH),
        required=False,
        max_length=MAX_SCOPE_ENTRIES,
        help_text="CertMate's scope: the certificates it may see and act on, as names (api.example.com) and "
        "patterns (*.example.com); empty: all its role allows. A token with a scope can only make tokens "
        "inside it.",
    )

    def validate_allowed_domains(self, values: list[str]) -> list[str]:
        try:
            return allowed_domains_clean(values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="invalid_scope") from None

    def validate_user(self, email: str) -> User:
        user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"no active user with e-mail {email}", code="unknown_user")
        return user

    def validate(self, attrs):
        days = attrs.pop("expires_days", None)
        if days is not None:
            if "expires_at" in attrs:
                raise serializers.ValidationError("give expires_days or expires_at, not both", code="conflict")
            attrs["expires_at"] = timezone.now() + timedelta(days=days)
        return attrs
