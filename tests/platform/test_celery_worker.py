"""A real Celery worker process (not eager mode) runs each task in the schema it was sent from."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from certmate.celery import app as celery_app
from tests.conftest import TENANT_A, TENANT_B
from tests.testapp.models import TaskRun
from tests.testapp.tasks import record_run

ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_db() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{credentials}@/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "certmate.settings.test",
            "DATABASE_URL": database_url_of_test_db(),
        }
    celery_app.control.purge()  # nothing left over from an earlier, interrupted run
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "certmate",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--hostname",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for_runs(tenant: Tenant, prefix: str, *, timeout: float = 60) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            runs = list(TaskRun.objects.filter(label__startswith=prefix).values_list("label", "schema_seen"))
        if runs or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


@pytest.mark.worker
def test_tasks_run_in_the_schema_they_were_queued_in(worker, django_db_setup, django_db_blocker):
    prefix = uuid.uuid4().hex
    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(schema_name=TENANT_A["slug"])
        beta = Tenant.objects.get(schema_name=TENANT_B["slug"])
        try:
            with tenant_context(alpha):
                record_run.delay(f"{prefix}-queued-in-alpha")
            with tenant_context(beta):
                record_run.delay(f"{prefix}-queued-in-beta")
            runs_a = wait_for_runs(alpha, prefix)
            runs_b = wait_for_runs(beta, prefix)
        finally:
            for tenant in (alpha, beta):
                with tenant_context(tenant):
                    TaskRun.objects.filter(label__startswith=prefix).delete()
    log = worker.read_text()
    assert runs_a == [(f"{prefix}-queued-in-alpha", "alpha")], log[-3000:]
    assert runs_b == [(f"{prefix}-queued-in-beta", "beta")], log[-3000:]
