"""The periodic tasks certmate needs, defined here and installed into django-celery-beat."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

SWEEP_NAME = "certmate: renewal sweep"
# Beat's entry point (apps.certificates.tasks), by name.
SWEEP_TASK = "apps.certificates.tasks.renewal_sweep_all_task"


@transaction.atomic
def schedule_install() -> PeriodicTask:
    """Create or update the hourly (CERTMATE_SWEEP_INTERVAL_SECONDS) sweep; safe to repeat."""
    connection.set_schema_to_public()
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=settings.CERTMATE_SWEEP_INTERVAL_SECONDS, period=IntervalSchedule.SECONDS
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=SWEEP_NAME, defaults={"task": SWEEP_TASK, "interval": interval, "enabled": True}
    )
    return task
