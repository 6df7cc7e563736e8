"""The tenant's defaults for its certificates."""

from __future__ import annotations

from django.db import transaction

from apps.certificates.models import TenantSettings
from apps.certificates.services.due import certificates_schedule_refresh


@transaction.atomic
def tenant_settings_update(**changes) -> TenantSettings:
    settings = TenantSettings.load()
    threshold_before = settings.renewal_threshold_days
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    if settings.renewal_threshold_days != threshold_before:
        certificates_schedule_refresh()
    return settings
