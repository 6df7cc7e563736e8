"""The Celery app. Tasks are tenant-aware: a task sent while a tenant's schema is active carries that
schema in its headers, and the worker runs it in that schema (tenant-schemas-celery)."""

import os

from celery.signals import worker_init
from tenant_schemas_celery.app import CeleryApp

from certmate.broker import use_whole_message_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certmate.settings.dev")

use_whole_message_transport()
app = CeleryApp("certmate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_a_certbot_user_it_cannot_be(**_) -> None:
    """A worker that cannot start certbot as CERTMATE_CERTBOT_USER says so and does not start."""
    from django.conf import settings

    from apps.certificates.acme.launch import LaunchError, run_as

    try:
        run_as(settings.CERTMATE_CERTBOT_USER)
    except LaunchError as exc:
        raise SystemExit(f"certmate worker: {exc}") from None
