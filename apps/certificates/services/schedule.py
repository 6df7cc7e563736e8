"""The periodic tasks certmate needs, defined here and installed into django-celery-beat."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.certificates.pki.crl_refresh import CRL_REFRESH_TASK
from apps.certificates.pki.ocsp_responders import RENEWAL_INTERVAL_SECONDS as OCSP_RENEWAL_INTERVAL_SECONDS
from apps.certificates.services.events import EVENTS_SWEEP_TASK

SWEEP_NAME = "certmate: renewal sweep"
EVENTS_SWEEP_NAME = "certmate: event sweep"
CRL_REFRESH_NAME = "certmate: CRL refresh"
OCSP_RENEWAL_NAME = "certmate: OCSP responder renewal"
ARI_REFRESH_NAME = "certmate: ARI renewal windows"
# Beat's entry point (apps.certificates.tasks), by name.
SWEEP_TASK = "apps.certificates.tasks.renewal_sweep_all_task"
OCSP_RENEWAL_TASK = "apps.certificates.tasks.ocsp_responders_renew_all_task"
ARI_REFRESH_TASK = "apps.certificates.tasks.ari_refresh_all_task"


@transaction.atomic
def schedule_install() -> list[PeriodicTask]:
    """Create or update the hourly (CERTMATE_SWEEP_INTERVAL_SECONDS) renewal sweep and the event sweep
    (every CERTMATE_EVENT_SWEEP_INTERVAL_SECONDS: events whose processing was lost), the private CAs'
    CRL refresh (every CERTMATE_CRL_REFRESH_INTERVAL_SECONDS), the OCSP responders' renewal (every 6
    hours) and the ARI refresh of renewal windows (every CERTMATE_ARI_INTERVAL_SECONDS); safe to repeat."""
    connection.set_schema_to_public()
    wanted = (
        (SWEEP_NAME, SWEEP_TASK, settings.CERTMATE_SWEEP_INTERVAL_SECONDS),
        (EVENTS_SWEEP_NAME, EVENTS_SWEEP_TASK, settings.CERTMATE_EVENT_SWEEP_INTERVAL_SECONDS),
        (CRL_REFRESH_NAME, CRL_REFRESH_TASK, settings.CERTMATE_CRL_REFRESH_INTERVAL_SECONDS),
        (OCSP_RENEWAL_NAME, OCSP_RENEWAL_TASK, OCSP_RENEWAL_INTERVAL_SECONDS),
        (ARI_REFRESH_NAME, ARI_REFRESH_TASK, settings.CERTMATE_ARI_INTERVAL_SECONDS),
    )
    tasks = []
    for name, task_name, seconds in wanted:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
        task, _ = PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task_name, "interval": interval, "enabled": True}
        )
        tasks.append(task)
    return tasks
