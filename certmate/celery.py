"""The Celery app. Tasks are tenant-aware: a task sent while a tenant's schema is active carries that
schema in its headers, and the worker runs it in that schema (tenant-schemas-celery)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certmate.settings.dev")

app = CeleryApp("certmate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
