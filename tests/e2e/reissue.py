"""Helpers for bulk reissue end-to-end tests: certificates issued for real on one CA account, a bulk
reissue followed to its end."""

from __future__ import annotations

import time

from django_tenants.utils import tenant_context

from apps.certificates.models import BulkReissue, CaAccount, Certificate, DnsAccount, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.e2e.issuance import unique, wait_for_job
from tests.factories import TEST_ACTOR


def issued_on(tenant, ca: CaAccount, dns: DnsAccount, *, in_process: bool = False) -> Certificate:
    """A certificate issued by Pebble for a new name on ``ca``, its first version current."""
    with tenant_context(tenant):
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        if in_process:
            certificate_issue(job_id=job.pk)
    done = wait_for_job(tenant, job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    with tenant_context(tenant):
        return Certificate.objects.select_related("current_version").get(pk=done.certificate_id)


def finished(tenant, bulk_id: int, *, timeout: float = 240) -> BulkReissue:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            bulk = BulkReissue.objects.get(pk=bulk_id)
        if bulk.finished_at is not None:
            return bulk
        assert time.monotonic() < deadline, f"bulk reissue {bulk_id} still {bulk.status} after {timeout} s"
        time.sleep(0.5)
