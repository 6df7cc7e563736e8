"""Deliveries outlive their workers: one whose worker is killed while it sends, and one recorded while no
worker runs (and sent again by the sweep), are each delivered by the next worker, under one delivery id.

Its own module: the workers here are its own (no module-wide worker may take their tasks)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.services.renewals import renewal_sweep_all
from apps.notifications.kinds import DeliveryStatus, NoticeKind
from apps.notifications.models import Delivery
from apps.notifications.services import deliveries_retry_due, notice_record
from apps.notifications.services.delivery import SWEEP_GRACE
from tests.e2e.issuance import unique
from tests.e2e.notifications import DELIVERY_HEADER, until, webhook_channel
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


def requests_by_id(receiver: HttpReceiver) -> Counter[str]:
    return Counter(request.header(DELIVERY_HEADER) for request in receiver.requests)


def test_deliveries_outlive_a_killed_worker_and_a_time_without_workers(fresh_tenant, tmp_path):
    alpha = fresh_tenant()
    purge_broker()
    with HttpReceiver() as receiver:
        webhook_channel(alpha, receiver)
        # A worker dies while it sends: the receiver holds the first attempt, the worker is SIGKILLed.
        receiver.script(Reply(delay=5))
        first = Worker(tmp_path / "first.log", concurrency=1, extra_env=QUICK).start()
        try:
            killed = tell(alpha)
            until(lambda: receiver.requests, "the first worker never sent it", worker=first)
            os.killpg(first.process.pid, signal.SIGKILL)
            first.process.wait()
        finally:
            first.stop()
        with tenant_context(alpha):
            held = Delivery.objects.get(pk=killed.pk)
        assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 1) and held.lease_until, "killed mid-send"

        # While no worker runs, another notice is recorded: its task waits in the broker, and the sweep (past
        # that task's grace) sends it again: two tasks for one delivery, for the next worker.
        waiting = tell(alpha)
        with tenant_context(alpha):
            assert deliveries_retry_due(now=waiting.next_attempt_at + SWEEP_GRACE + timedelta(seconds=1)) >= 1
        second = Worker(tmp_path / "second.log", concurrency=2, extra_env=QUICK).start()
        try:
            waited = until(lambda: delivered(alpha, waiting), "the waiting delivery never arrived", worker=second)
            # Once the dead worker's lease lapses, the sweep's hook sends its delivery again.
            until(lambda: timezone.now() > held.lease_until, "the lease never lapsed", timeout=60)
            renewal_sweep_all(slugs=[alpha.schema_name], jitter_seconds=0)
            made_good = until(lambda: delivered(alpha, killed), "the killed delivery never arrived", worker=second)
            until(lambda: tasks_done(second) >= 3, "a task never ran", worker=second)
        finally:
            second.stop()
        assert requests_by_id(receiver) == {
            str(killed.delivery_id): 2,  # the attempt cut off with its worker, and the one that got through
            str(waiting.delivery_id): 1,  # once, though it was sent twice
        }
    assert (made_good.attempts, waited.attempts) == (2, 1)


def delivered(tenant, delivery: Delivery) -> Delivery | None:
    with tenant_context(tenant):
        row = Delivery.objects.get(pk=delivery.pk)
    return row if row.status == DeliveryStatus.DELIVERED else None
