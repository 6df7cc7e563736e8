"""The renewal sweep: what is due, in every tenant, each due certificate its own job."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.selectors import tenants_active
from apps.certificates.events import sweep_hooks_run
from apps.certificates.models import Certificate, Job, JobStatus, RenewalSweep
from apps.certificates.services.requests import CertificateRequestError, certificate_renew, job_dispatch
from certmate.actors import Actor

logger = logging.getLogger(__name__)

SWEEP = Actor.system("renewal sweep")
LOST = "the worker running this job stopped before it finished (its lease expired); a new job retries it"


def certificates_due(*, now: datetime) -> QuerySet[Certificate]:
    """Certificates due for renewal at ``now``: one query on the partial index over renew_at."""
    return Certificate.objects.filter(auto_renew=True, renew_at__lte=now, current_version__isnull=False)


def jobs_reap_lost(*, now: datetime) -> int:
    """Fail running jobs whose lease expired (their worker died), so their certificate can be retried."""
    return Job.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now).update(
        status=JobStatus.FAILED, finished_at=now, error=LOST, lease_expires_at=None
    )


def jobs_redispatch_stale(*, now: datetime) -> int:
    """Send again the queued jobs whose message was lost (a broker without acknowledgements, a purge)."""
    stale = Job.objects.filter(
        status=JobStatus.QUEUED, queued_at__lt=now - timedelta(seconds=settings.CERTMATE_JOB_LEASE_SECONDS)
    )
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        Job.objects.filter(pk__in=ids).update(queued_at=now)  # once per lease, not every sweep
        for job_id in ids:
            job_dispatch(job_id=job_id)
    return len(ids)


def renewal_sweep(*, now: datetime | None = None, jitter_seconds: float | None = None) -> RenewalSweep:
    """Sweep the current tenant: reap lost jobs, run the other apps' sweep hooks (storage sends lost
    publishes again), find what is due, queue one renewal job each."""
    real_now = timezone.now()
    now = now or real_now  # judges due-ness only; leases are always judged by the clock
    jitter = settings.CERTMATE_RENEWAL_JITTER_SECONDS if jitter_seconds is None else jitter_seconds
    reaped = jobs_reap_lost(now=real_now)
    jobs_redispatch_stale(now=real_now)
    sweep_hooks_run()
    due = list(certificates_due(now=now).only("pk", "identifier", "renew_at"))
    sweep = RenewalSweep.objects.create(as_of=now, due=len(due), reaped=reaped)
    queued = 0
    for certificate in due:
        spread = random.uniform(0, jitter)  # noqa: S311 - spreading load, not a secret
        try:
            _, created = certificate_renew(
                certificate=certificate, as_of=now, sweep=sweep, countdown=spread, actor=SWEEP
            )
        except CertificateRequestError:
            continue  # renewed by a concurrent sweep's job since the list was read: nothing to do
        queued += created
    finished_at = timezone.now()
    RenewalSweep.objects.filter(pk=sweep.pk).update(queued=queued, finished_at=finished_at)
    sweep.queued, sweep.finished_at = queued, finished_at
    return sweep


@dataclass(frozen=True)
class SweepSummary:
    tenant: str
    sweep: RenewalSweep


def renewal_sweep_all(*, slugs: list[str] | None = None, now: datetime | None = None, jitter_seconds=None):
    """Sweep every active tenant (or the ones named), each in its own schema."""
    summaries = []
    for tenant in tenants_active(slugs=slugs):
        with tenant_context(tenant):
            try:
                sweep = renewal_sweep(now=now, jitter_seconds=jitter_seconds)
            except Exception:
                # One tenant's trouble must not stop the others' renewals.
                logger.exception("renewal sweep of tenant %s failed", tenant.schema_name)
                continue
            summaries.append(SweepSummary(tenant.schema_name, sweep))
    return summaries
