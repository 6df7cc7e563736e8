"""The tenant's defaults for its certificates."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.certificates.models import TenantSettings
from apps.certificates.services.due import certificates_schedule_refresh
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record

AUDITED = (
    "contact_email",
    "default_ca_account",
    "default_dns_account",
    "default_key_type",
    "auto_renew_default",
    "renewal_threshold_days",
    "public_base_url",
    "expiry_warning_days",
)


def _snapshot(settings: TenantSettings) -> dict[str, Any]:
    """The settings as the audit log records them: the default accounts by their names, as a reader knows them."""
    snapshot = {}
    for name in AUDITED:
        value = getattr(settings, name)
        snapshot[name] = str(value) if isinstance(value, models.Model) else value
    return snapshot


def _expiry_warning_days(days) -> list[int]:
    """The thresholds as kept: distinct, farthest first (each still checked by the model: 1 to 365, at most 10)."""
    days = list(days or [])
    repeated = sorted({day for day in days if days.count(day) > 1})
    if repeated:
        shown = ", ".join(str(day) for day in repeated)
        raise ValidationError({"expiry_warning_days": f"each threshold once: {shown} is given twice"}, code="invalid")
    return sorted(days, reverse=True)


@transaction.atomic
def tenant_settings_update(*, actor: Actor, **changes) -> TenantSettings:
    """Change the settings given; recorded as ``tenant_settings.updated`` when something changed."""
    unknown = set(changes) - set(AUDITED)
    if unknown:
        raise TypeError(f"tenant_settings_update: unknown fields {sorted(unknown)}")
    settings = TenantSettings.objects.select_for_update().filter(pk=TenantSettings.load().pk).get()
    before = _snapshot(settings)
    threshold_before = settings.renewal_threshold_days
    if "expiry_warning_days" in changes:
        changes["expiry_warning_days"] = _expiry_warning_days(changes["expiry_warning_days"])
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    if settings.renewal_threshold_days != threshold_before:
        certificates_schedule_refresh()
    changed = audit_changes(before, _snapshot(settings))
    if changed:
        audit_record(
            actor=actor,
            action="tenant_settings.updated",
            object_type="tenant_settings",
            object_id=settings.pk,
            object_name=str(settings),
            changes=changed,
        )
    return settings
