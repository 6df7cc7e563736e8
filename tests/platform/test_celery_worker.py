"""A real Celery worker process (not eager mode) runs each task in the schema it was sent from."""

from __future__ import annotations

import time
import uuid

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from tests.conftest import TENANT_A, TENANT_B
from tests.testapp.models import TaskRun
from tests.testapp.tasks import record_run


def wait_for_runs(tenant: Tenant, prefix: str, *, timeout: float = 60) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            runs = list(TaskRun.objects.filter(label__startswith=prefix).values_list("label", "schema_seen"))
        if runs or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


@pytest.mark.worker
def test_tasks_run_in_the_schema_they_were_queued_in(worker, live_db):
    prefix = uuid.uuid4().hex
    alpha = Tenant.objects.get(schema_name=TENANT_A["slug"])
    beta = Tenant.objects.get(schema_name=TENANT_B["slug"])
    with tenant_context(alpha):
        record_run.delay(f"{prefix}-queued-in-alpha")
    with tenant_context(beta):
        record_run.delay(f"{prefix}-queued-in-beta")
    runs_a = wait_for_runs(alpha, prefix)
    runs_b = wait_for_runs(beta, prefix)
    log = worker.log_text()
    assert runs_a == [(f"{prefix}-queued-in-alpha", "alpha")], log[-3000:]
    assert runs_b == [(f"{prefix}-queued-in-beta", "beta")], log[-3000:]
