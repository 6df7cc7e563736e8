"""Helpers for renewal tests: fresh tenants, certificates issued through the real path."""

from __future__ import annotations

import time

from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, Job, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.e2e.issuance import accounts_for, unique, wait_for_job
from tests.factories import TEST_ACTOR

HALF_LIFE = 100_000  # days: a renew-before this long means "at mid-life"


def issue(tenant, pebble, bind9, *, renew_before_days=None, auto_renew=True, in_process=False):
    ca, dns = accounts_for(tenant, pebble, bind9)
    with tenant_context(tenant):
        job = certificate_request(
            identifier=f"{unique()}.certmate.test",
            ca_account=ca,
            dns_account=dns,
            renew_before_days=renew_before_days,
            auto_renew=auto_renew,
            actor=TEST_ACTOR,
        )
        if in_process:
            certificate_issue(job_id=job.pk)
    return job


def issued(tenant, jobs) -> dict[str, Certificate]:
    out = {}
    for name, job in jobs.items():
        done = wait_for_job(tenant, job.pk)
        assert done.status == JobStatus.SUCCEEDED, done.error
        with tenant_context(tenant):
            out[name] = Certificate.objects.select_related("current_version").get(pk=done.certificate_id)
    return out


def sweep_jobs_done(tenant, sweep, timeout=180):
    deadline = time.monotonic() + timeout
    with tenant_context(tenant):
        jobs = Job.objects.filter(sweep=sweep)
        while jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
            assert time.monotonic() < deadline, "renewals did not finish"
            time.sleep(0.25)
        return list(jobs)


def versions(tenant, certificate) -> list[str]:
    with tenant_context(tenant):
        return list(certificate.versions.order_by("number").values_list("serial", flat=True))
