"""Running a queued job, whatever its operation, in one of its tenant's certbot slots: at most
CERTMATE_TENANT_CONCURRENCY of a tenant's jobs run at once across all workers, so one tenant's slow
orders never hold every worker while another tenant's job waits."""

from __future__ import annotations

import random

from django.conf import settings

from apps.certificates.models import Job, JobOperation, JobStatus
from apps.certificates.services.issuance import certificate_issue
from apps.certificates.services.leases import job_wait_turn
from apps.certificates.services.revocation import revocation_run
from certmate.locks import TENANT_SLOT, one_slot_of


def job_run(*, job_id: int) -> Job | None:
    """Run the job if one of the tenant's slots is free; otherwise it stays queued, saying it waits for
    a free slot, and is sent again shortly (jittered). The slot is a session lock on a connection of its
    own: released when the run ends, however it ends, and when its worker dies."""
    job = Job.objects.filter(pk=job_id).only("pk", "status", "operation").first()
    if job is None or job.status != JobStatus.QUEUED:
        return job
    limit = settings.CERTMATE_TENANT_CONCURRENCY
    with one_slot_of(TENANT_SLOT, "certbot", limit) as slot:
        if slot is None:
            base = settings.CERTMATE_TENANT_SLOT_RETRY_SECONDS
            delay = random.uniform(base, 2 * base)  # noqa: S311 - spreading retries, not a secret
            job_wait_turn(job, delay, f"waiting for a free slot: this tenant runs at most {limit} jobs at once")
            job.refresh_from_db()
            return job
        run = revocation_run if job.operation == JobOperation.REVOKE else certificate_issue
        return run(job_id=job_id)
