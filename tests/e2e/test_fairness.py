"""Fair workers: a tenant's backlog of slow orders never holds every worker. With three worker processes
and two slots per tenant, tenant A queues four orders that each wait 20 s for DNS; tenant B's order,
queued behind them, still starts at once and is done before A's backlog is.

Its own module and worker: the tenant bound and the retry interval are this worker's settings."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Job, JobStatus
from apps.certificates.services import certificate_request
from tests.api.conftest import bearer_client
from tests.e2e.issuance import accounts_for, unique
from tests.factories import TEST_ACTOR
from tests.worker import Worker, purge_broker

pytestmark = pytest.mark.tools

SLOW_DNS_SECONDS = 20
BOUND = 2


def order(tenant, ca, dns) -> Job:
    with tenant_context(tenant):
        return certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )


def jobs_of(tenant, ids) -> list[Job]:
    with tenant_context(tenant):
        return list(Job.objects.filter(pk__in=ids).order_by("pk"))


@pytest.mark.timeout(900)
def test_one_tenants_slow_backlog_does_not_hold_another_tenants_order(fresh_tenant, pebble, bind9, tmp_path):
    alpha, beta = fresh_tenant(), fresh_tenant()
    slow_ca, slow_dns = accounts_for(alpha, pebble, bind9)
    with tenant_context(alpha):
        slow_dns.propagation_seconds = SLOW_DNS_SECONDS
        slow_dns.save()
    quick_ca, quick_dns = accounts_for(beta, pebble, bind9)
    settings = {"CERTMATE_TENANT_CONCURRENCY": str(BOUND), "CERTMATE_TENANT_SLOT_RETRY_SECONDS": "2"}
    purge_broker()
    worker = Worker(tmp_path / "worker.log", concurrency=3, extra_env=settings).start()
    try:
        backlog = [order(alpha, slow_ca, slow_dns).pk for _ in range(4)]
        deadline = time.monotonic() + 180  # generous: the machine may be busy with other work
        while sum(job.status == JobStatus.RUNNING for job in jobs_of(alpha, backlog)) < BOUND:
            assert time.monotonic() < deadline, "A's orders did not start\n" + worker.log_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)  # the third worker process has tried one of A's other orders by now
        quick = order(beta, quick_ca, quick_dns)

        alpha_client, most_running, waiting_said = bearer_client(alpha, "viewer"), 0, set()
        deadline = time.monotonic() + 600
        while True:
            jobs = jobs_of(alpha, backlog)
            most_running = max(most_running, sum(job.status == JobStatus.RUNNING for job in jobs))
            for job in jobs:
                if job.status == JobStatus.QUEUED:
                    shown = alpha_client.get(f"/api/certificates/jobs/{job.pk}").json()
                    waiting_said.add(shown["progress"])
            done = jobs + jobs_of(beta, [quick.pk])
            if all(job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for job in done):
                break
            assert time.monotonic() < deadline, "the jobs did not finish\n" + worker.log_text()[-3000:]
            time.sleep(0.5)
    finally:
        worker.stop()
    (quick,) = jobs_of(beta, [quick.pk])
    assert [job.status for job in done] == [JobStatus.SUCCEEDED] * 5, [job.error for job in done]
    waited = (quick.started_at - quick.created_at).total_seconds()
    drained = max(job.finished_at for job in jobs)
    print(
        f"\nB waited {waited:.1f} s to start and finished {(drained - quick.finished_at).total_seconds():.1f} s "
        f"before A's backlog of 4 x {SLOW_DNS_SECONDS} s orders drained "
        f"(A: {(drained - min(job.created_at for job in jobs)).total_seconds():.1f} s in all)"
    )
    assert waited < SLOW_DNS_SECONDS / 2, f"B waited {waited:.1f} s behind A's orders"
    assert quick.finished_at < drained
    assert most_running <= BOUND, "never more of A's orders at once than its bound"
    assert f"waiting for a free slot: this tenant runs at most {BOUND} jobs at once" in waiting_said
