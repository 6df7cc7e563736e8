"""A tenant's certbot slots: at most CERTMATE_TENANT_CONCURRENCY of its jobs run at once, the others
wait queued (never failed), and a slot comes back when its run ends however it ends — a failure, or
its worker process killed."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, JobStatus
from apps.certificates.services.jobs import job_run
from apps.certificates.services.requests import job_queue
from certmate.locks import TENANT_SLOT, one_slot_of
from tests.factories import TEST_ACTOR


def slot(count: int = 2):
    return one_slot_of(TENANT_SLOT, "certbot", count)


def test_a_tenant_has_its_slots_and_no_more_and_other_tenants_keep_theirs(tenant_a, tenant_b):
    with tenant_context(tenant_a), slot() as first, slot() as second:
        assert {first, second} == {0, 1}
        with slot() as third:
            assert third is None
        with tenant_context(tenant_b), slot() as beta:
            assert beta is not None
    with tenant_context(tenant_a), slot() as again:
        assert again is not None  # released with the block


@override_settings(CERTMATE_TENANT_CONCURRENCY=2, CERTMATE_TENANT_SLOT_RETRY_SECONDS=5)
def test_a_job_without_a_free_slot_waits_queued_and_is_sent_again(tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        job = job_queue(
            certificate=Certificate.objects.create(identifier="waits.alpha.test"), operation="issue", actor=TEST_ACTOR
        )
        with slot() as first, slot() as second, django_capture_on_commit_callbacks() as sent:
            assert None not in (first, second)
            waited = job_run(job_id=job.pk)
        assert waited.status == JobStatus.QUEUED and waited.attempts == 0
        assert waited.progress == "waiting for a free slot: this tenant runs at most 2 jobs at once"
        assert len(sent) == 1  # sent again, later
        assert 5 <= (waited.queued_at - job.queued_at).total_seconds() <= 11

        failed = job_run(job_id=job.pk)  # a slot is free now: it runs (and fails: no accounts)
        assert failed.status == JobStatus.FAILED and "no CA account" in failed.error
        assert failed.progress == ""
        with slot() as first, slot() as second:
            assert None not in (first, second), "the failed run gave its slot back"


def test_a_killed_worker_gives_its_slot_back(tenant_a):
    with tenant_context(tenant_a):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker that takes both slots and is killed while holding them
            try:
                with slot() as first, slot() as second:
                    os.write(write, b"1" if None not in (first, second) else b"0")
                    time.sleep(60)
            finally:
                os._exit(0)
        try:
            assert os.read(read, 1) == b"1"
            with slot() as held:
                assert held is None
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        deadline = time.monotonic() + 10
        while True:
            with slot() as free:
                if free is not None:
                    break
            assert time.monotonic() < deadline, "the slots stayed taken after their worker died"
            time.sleep(0.1)


@pytest.mark.parametrize("count", [1, 3])
def test_the_bound_is_the_setting(tenant_b, count):
    with tenant_context(tenant_b):
        held = []
        for _ in range(count):
            context = slot(count)
            held.append((context, context.__enter__()))
        try:
            assert None not in [number for _, number in held]
            with slot(count) as extra:
                assert extra is None
        finally:
            for context, _ in held:
                context.__exit__(None, None, None)
