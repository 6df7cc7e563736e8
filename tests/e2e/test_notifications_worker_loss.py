"""Deliveries outlive their workers: one recorded while no worker runs (and sent again by the sweep), and
one whose worker is killed while it sends, are each delivered by the next worker, under one delivery id.

Its own module: the workers here are its own (no module-wide worker may take their tasks)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.services.renewals import renewal_sweep_all
from apps.notifications.kinds import DeliveryStatus, NoticeKind
from apps.notifications.models import Delivery
from apps.notifications.services import deliveries_retry_due, notice_record
from tests.e2e.issuance import unique
from tests.e2e.notifications import DELIVERY_HEADER, delivery_done, until, webhook_channel
from tests.notifications.servers import HttpReceiver, Reply
from tests.worker import Worker, purge_broker

pytestmark = [pytest.mark.worker]

DELIVER_TASK = "apps.notifications.tasks.notification_deliver_task"
# A worker that gives a webhook 2 seconds: its lease on a delivery lapses 36 seconds after it took it.
QUICK = {"CERTMATE_NOTIFY_TIMEOUT_SECONDS": "2"}


def tell(tenant) -> Delivery:
    """A notice to the tenant's channels, as the event consumer records one: its delivery goes to the broker."""
    name = f"{unique()}.example.com"
    with tenant_context(tenant):
        notice = notice_record(kind=NoticeKind.ISSUED, key=f"e2e:{name}", identifier=name, certificate_kind="server")
        return Delivery.objects.get(notice=notice)


def tasks_done(worker: Worker) -> int:
    return sum(DELIVER_TASK in line and " succeeded in " in line for line in worker.log_text().splitlines())


def test_a_delivery_recorded_while_no_worker_runs_is_delivered_once_by_the_next(fresh_tenant, tmp_path):
    alpha = fresh_tenant()
    purge_broker()
    with HttpReceiver() as receiver:
        channel, _ = webhook_channel(alpha, receiver)
        delivery = tell(alpha)  # its task waits in the broker
        with tenant_context(alpha):  # the sweep, past the task's grace, sends it again: two tasks, one delivery
            assert deliveries_retry_due(now=timezone.now() + timedelta(minutes=1)) == 1
        worker = Worker(tmp_path / "worker.log", concurrency=2).start()
        try:
            row = until(lambda: delivery_done(alpha, channel), "not delivered by the new worker", worker=worker)
            until(lambda: tasks_done(worker) >= 2, "the second task never ran", worker=worker)
        finally:
            worker.stop()
        assert [request.header(DELIVERY_HEADER) for request in receiver.requests] == [str(delivery.delivery_id)]
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_a_worker_killed_while_it_sends_is_made_good_by_the_sweep_and_a_new_worker(fresh_tenant, tmp_path):
    alpha = fresh_tenant()
    purge_broker()
    with HttpReceiver() as receiver:
        channel, _ = webhook_channel(alpha, receiver)
        receiver.script(Reply(delay=5))  # the first attempt waits on the receiver: time to kill its worker
        first = Worker(tmp_path / "first.log", concurrency=1, extra_env=QUICK).start()
        try:
            delivery = tell(alpha)
            until(lambda: receiver.requests, "the first worker never sent it", worker=first)
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait()
        finally:
            first.stop()
        with tenant_context(alpha):
            held = Delivery.objects.get(pk=delivery.pk)
        assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 1) and held.lease_until, "killed mid-send"
        until(lambda: timezone.now() > held.lease_until, "the lease never lapsed", timeout=60)
        second = Worker(tmp_path / "second.log", concurrency=1, extra_env=QUICK).start()
        try:
            renewal_sweep_all(slugs=[alpha.schema_name], jitter_seconds=0)  # its hook sends lost deliveries again
            row = until(lambda: delivery_done(alpha, channel), "the sweep did not send it again", worker=second)
        finally:
            second.stop()
        assert {request.header(DELIVERY_HEADER) for request in receiver.requests} == {str(delivery.delivery_id)}
        assert len(receiver.requests) == 2, "the cut-off attempt and the one that got through"
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
