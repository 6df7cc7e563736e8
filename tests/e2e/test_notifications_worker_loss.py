"""Deliveries outlive their workers: one recorded while no worker runs, and one whose worker is killed
while it holds it, are each delivered by the next worker, and the receiver sees one delivery id.

Its own module: the workers here are its own (no module-wide worker may take their tasks)."""

from __future__ import annotations

import pytest
from apps.notifications.services import channel_test, deliveries_retry_due
from django_tenants.utils import tenant_context

from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery
from tests.e2e.notifications import DELIVERY_HEADER, until, webhook_channel
from tests.factories import TEST_ACTOR
from tests.notifications.servers import HttpReceiver
from tests.worker import Worker, purge_broker

pytestmark = [pytest.mark.worker]

DELIVER_TASK = "apps.notifications.tasks.notification_deliver_task"


def delivered(tenant, delivery_id: int):
    with tenant_context(tenant):
        row = Delivery.objects.get(pk=delivery_id)
    return row if row.status == DeliveryStatus.DELIVERED else None


def tasks_done(worker: Worker) -> int:
    return sum(DELIVER_TASK in line and " succeeded in " in line for line in worker.log_text().splitlines())


def test_a_delivery_recorded_while_no_worker_runs_is_delivered_once_by_the_next(fresh_tenant, tmp_path):
    alpha = fresh_tenant()
    purge_broker()
    with HttpReceiver() as receiver:
        channel, _ = webhook_channel(alpha, receiver)
        with tenant_context(alpha):
            delivery = channel_test(actor=TEST_ACTOR, channel=channel)  # its task waits in the broker
            deliveries_retry_due()  # and the sweep sends it again: two tasks for one delivery
        worker = Worker(tmp_path / "worker.log", concurrency=2).start()
        try:
            row = until(lambda: delivered(alpha, delivery.pk), "not delivered by the new worker", worker=worker)
            until(lambda: tasks_done(worker) >= 2, "the second task never ran", worker=worker)
        finally:
            worker.stop()
        assert [request.header(DELIVERY_HEADER) for request in receiver.requests] == [str(delivery.delivery_id)]
    assert row.attempts == 1
