"""The Celery app. Tasks are tenant-aware: a task sent while a tenant's schema is active carries that
schema in its headers, and the worker runs it in that schema (tenant-schemas-celery). What a worker checks
as it starts belongs to the apps (apps.certificates.acme.worker)."""

import os

from tenant_schemas_celery.app import CeleryApp

from certmate.broker import use_whole_message_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certmate.settings.dev")

use_whole_message_transport()
app = CeleryApp("certmate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
