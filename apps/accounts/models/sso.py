"""A tenant's single sign-on: one OpenID Connect provider per tenant. Tenant schema."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from certmate.fields import EncryptedTextField


def empty_role_values() -> dict[str, list[str]]:
    return {"admin": [], "operator": [], "viewer": []}


class SsoSettings(models.Model):
    """Who the tenant's identity provider is, how certmate is registered there, and how its claims
    become certmate roles. One row per tenant schema; written only by services.sso."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    enabled = models.BooleanField(default=False)
    name = models.CharField(
        "provider name", max_length=60, blank=True, help_text='Shown on the sign-in page: "Sign in with <name>"'
    )
    issuer = models.CharField("issuer URL", max_length=500, blank=True)
    client_id = models.CharField("client id", max_length=255, blank=True)
    client_secret = EncryptedTextField("client secret", blank=True, default="")
    scopes = models.CharField(max_length=300, default="openid email profile")
    role_claim = models.CharField(max_length=200, default="groups")
    # {"admin": [claim values], "operator": [...], "viewer": [...]}: the highest role matched wins.
    role_values = models.JSONField(default=empty_role_values)
    sso_only = models.BooleanField(
        "SSO only", default=False, help_text="Refuse password sign-in for this tenant's users"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "single sign-on"
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="sso_settings_singleton")]

    def __str__(self) -> str:
        return f"Single sign-on ({self.name or 'not configured'})"

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret)
