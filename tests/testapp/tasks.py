from celery import shared_task
from django.db import connection


@shared_task
def record_run(label: str) -> None:
    from tests.testapp.models import TaskRun

    TaskRun.objects.create(label=label, schema_seen=connection.schema_name)
