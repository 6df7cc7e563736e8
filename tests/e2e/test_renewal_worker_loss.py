"""A worker killed mid-renewal: the live version stays, the claim expires, a later sweep renews.

Its own module: no other worker may take its jobs."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import psutil
import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, Job, JobStatus
from apps.certificates.services.renewals import renewal_sweep_all
from tests.e2e.renewals import HALF_LIFE, issue, sweep_jobs_done
from tests.worker import Worker

pytestmark = pytest.mark.tools


def test_a_worker_killed_mid_renewal_is_recovered_by_a_later_sweep(fresh_tenant, pebble_factory, bind9, tmp_path):
    alpha = fresh_tenant()
    # Without reuse of valid authorizations, the renewal has to wait for DNS again: time to kill it.
    pebble = pebble_factory(extra_env={"PEBBLE_AUTHZREUSE": "0"})
    job = issue(alpha, pebble, bind9, renew_before_days=HALF_LIFE, in_process=True)
    with tenant_context(alpha):
        cert = Certificate.objects.select_related("current_version", "dns_account").get(pk=job.certificate_id)
        live = cert.current_version
        cert.dns_account.propagation_seconds = 30  # the renewal waits here long enough to be killed
        cert.dns_account.save()
    as_of = cert.renew_at + timedelta(seconds=1)
    lease = {"CERTMATE_JOB_LEASE_SECONDS": "10"}
    first = Worker(tmp_path / "first.log", concurrency=1, extra_env=lease).start()
    try:
        (summary,) = renewal_sweep_all(slugs=[alpha.schema_name], now=as_of, jitter_seconds=0)
        deadline = time.monotonic() + 60
        with tenant_context(alpha):
            renewal = Job.objects.get(sweep=summary.sweep)
            while Job.objects.get(pk=renewal.pk).status != JobStatus.RUNNING:
                assert time.monotonic() < deadline, first.log_text()[-2000:]
                time.sleep(0.1)
        time.sleep(2)  # certbot is running now
        certbot_runs = [p for p in psutil.Process(first.process.pid).children(recursive=True) if p.children() == []]
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait()
        psutil.wait_procs(certbot_runs, timeout=10)
        assert not [p for p in certbot_runs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], (
            "certbot must not outlive its worker"
        )
    finally:
        first.stop()
    with tenant_context(alpha):
        cert.refresh_from_db()
        assert cert.current_version_id == live.pk, "the live version stays current"
        assert "PRIVATE KEY" in cert.current_version.private_key, "and downloadable"
        assert Job.objects.get(pk=renewal.pk).status == JobStatus.RUNNING
        cert.dns_account.propagation_seconds = 1
        cert.dns_account.save()
        lease_end = Job.objects.get(pk=renewal.pk).lease_expires_at
    # Before the lease ends the job still counts as running: a sweep neither reaps nor duplicates it.
    (early,) = renewal_sweep_all(slugs=[alpha.schema_name], now=as_of, jitter_seconds=0)
    assert (early.sweep.reaped, early.sweep.queued) == (0, 0)
    while timezone.now() <= lease_end:
        time.sleep(0.5)
    second = Worker(tmp_path / "second.log", concurrency=1).start()
    try:
        (summary,) = renewal_sweep_all(slugs=[alpha.schema_name], now=max(as_of, timezone.now()), jitter_seconds=0)
        assert (summary.sweep.reaped, summary.sweep.due, summary.sweep.queued) == (1, 1, 1)
        done = sweep_jobs_done(alpha, summary.sweep)
        assert [j.status for j in done] == [JobStatus.SUCCEEDED], second.log_text()[-2000:]
    finally:
        second.stop()
    with tenant_context(alpha):
        assert Job.objects.get(pk=renewal.pk).status == JobStatus.FAILED
        assert cert.versions.count() == 2
        assert Certificate.objects.get(pk=cert.pk).current_version.number == 2
