"""Reads for accounts."""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.accounts.models import SsoSettings, Tenant


def tenants_active(*, slugs: list[str] | None = None) -> QuerySet[Tenant]:
    """The active tenants (or those of them named), in slug order: what every beat pass walks."""
    tenants = Tenant.objects.filter(is_active=True).exclude(schema_name=get_public_schema_name())
    if slugs:
        tenants = tenants.filter(schema_name__in=slugs)
    return tenants.order_by("schema_name")


def tenant_list() -> QuerySet[Tenant]:
    """Every tenant but the platform's own public schema, with its domains."""
    return (
        Tenant.objects.exclude(schema_name=get_public_schema_name()).prefetch_related("domains").order_by("schema_name")
    )


def signin_attempts() -> QuerySet:
    """Failed sign-ins still counted (within the cool-off) in the current schema, newest first."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off()).order_by("-attempt_time")


def sso_settings_get() -> SsoSettings:
    """The current tenant's single sign-on settings (an unsaved, disabled row when never configured)."""
    return SsoSettings.objects.filter(singleton=True).first() or SsoSettings()


def sso_settings_active() -> SsoSettings | None:
    """The current tenant's single sign-on settings when sign-in through its provider is on, else None
    (always None on the public host: platform operators sign in with their passwords)."""
    if connection.schema_name == get_public_schema_name():
        return None
    config = SsoSettings.objects.filter(singleton=True, enabled=True).first()
    return config if config is not None and config.issuer and config.client_id else None
