"""A bulk reissue under the CA account's order limit, through a worker allowed one order per 30 s
(CERTMATE_ORDERS_PER_ACCOUNT=1): the second certificate waits as pending, saying why, instead of failing
or queuing a job that waits at the CA; it is ordered once the window has room, and both are renewed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Job, JobOperation
from apps.certificates.services.reissue import bulk_reissue_create
from tests.api.conftest import bearer_client
from tests.e2e.conftest import started_worker
from tests.e2e.issuance import accounts_for
from tests.e2e.reissue import finished, issued_on
from tests.factories import TEST_ACTOR
from tests.worker import Worker

pytestmark = [pytest.mark.tools, pytest.mark.worker]
WINDOW = 30


@pytest.fixture(scope="module")
def limited_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    env = {"CERTMATE_ORDERS_PER_ACCOUNT": "1", "CERTMATE_ORDER_WINDOW_SECONDS": str(WINDOW)}
    yield from started_worker(django_db_blocker, tmp_path_factory, "limited-worker", concurrency=2, extra_env=env)


def test_the_second_certificate_waits_for_the_order_window(request, fresh_tenant, pebble, bind9):
    tenant = fresh_tenant()
    ca, dns = accounts_for(tenant, pebble, bind9)
    # Issued here, before the worker starts: their orders are then made history, outside any window.
    certificates = [issued_on(tenant, ca, dns, in_process=True) for _ in range(2)]
    with tenant_context(tenant):
        Job.objects.update(started_at=timezone.now() - timedelta(days=1))
    request.getfixturevalue("limited_worker")
    with tenant_context(tenant):
        bulk = bulk_reissue_create(selector={"ca_account": ca.name}, actor=TEST_ACTOR)

    viewer, deadline = bearer_client(tenant, "viewer"), time.monotonic() + 120
    while True:
        items = viewer.get(f"/api/reissues/{bulk.pk}").json()["items"]
        if any(item["status"] != "pending" for item in items):
            break
        assert time.monotonic() < deadline, items
        time.sleep(0.3)
    [waiting] = [item for item in items if item["status"] == "pending"]
    assert f"waiting for CA account '{ca.name}''s order limit" in waiting["progress"], waiting
    assert waiting["error"] == "" and waiting["renewal_job"] is None

    done = finished(tenant, bulk.pk, timeout=180)
    assert (done.status, done.renewed, done.failed) == ("succeeded", 2, 0)
    with tenant_context(tenant):
        first, second = Job.objects.filter(operation=JobOperation.RENEW, forced=True).order_by("created_at")
        assert {first.certificate_id, second.certificate_id} == {c.pk for c in certificates}
        # Not queued to wait at the CA account's limit: ordered once the window had room.
        assert second.created_at >= first.started_at + timedelta(seconds=WINDOW)
        assert second.started_at - second.created_at < timedelta(seconds=10)
