"""What every job's worker part shares: claiming a queued job under a lease, keeping the lease while it
runs, and a failed attempt retried with backoff (transient) or recorded for good."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.certificates import untrusted
from apps.certificates.engines import EngineError, engine_for
from apps.certificates.models import Job, JobOperation, JobStatus
from apps.certificates.services.requests import job_dispatch
from certmate.backoff import backoff_seconds

logger = logging.getLogger(__name__)


class JobAbandoned(Exception):
    """The sweep gave this job up (its lease expired) while it still ran: a newer job has taken over."""


class JobAttemptError(Exception):
    """One attempt failed: ``reason`` is one line a user reads, ``output`` the engine's log; a transient
    one is tried again, not before ``retry_after`` seconds when the issuer said."""

    def __init__(self, reason: str, output: str = "", *, transient: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.output = output
        self.transient = transient
        self.retry_after = retry_after

    @classmethod
    def from_engine(cls, exc: EngineError) -> JobAttemptError:
        return cls(exc.reason, exc.output, transient=exc.transient, retry_after=exc.retry_after)


def job_attempt(job: Job | None, work: Callable[[Job], None], *, fail: Callable[[Job, str, str], None]) -> Job | None:
    """Claim the queued ``job`` and do ``work`` on it: a failed attempt is retried or handed to ``fail``
    (job, reason, output), an unexpected error fails the job and is raised. A job another worker holds,
    or that is finished, is left alone; the job is answered as it then stands."""
    if job is None or job.status != JobStatus.QUEUED:
        return job
    if job_claim(job):
        try:
            work(job)
        except JobAbandoned:
            logger.warning("job %s ran past its lease and was given up on; a newer job takes over", job.pk)
        except JobAttemptError as exc:
            job_failed_attempt(job, exc, fail=fail)
        except Exception as exc:
            logger.exception("job %s for %s failed unexpectedly", job.pk, job.certificate.identifier)
            fail(job, f"internal error: {type(exc).__name__}", "")
            raise
    job.refresh_from_db()
    return job


def job_claim(job: Job) -> bool:
    """queued -> running under a lease, unless another worker got it first or (for an order) the issuer's
    order window is used up (then the job waits its turn instead of failing)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CERTMATE_JOB_LEASE_SECONDS)
    with transaction.atomic():
        if job.operation != JobOperation.REVOKE:
            wait = engine_for(job.certificate).order_wait(job.certificate, now=now)
            if wait is not None:
                job_wait_turn(job, wait.seconds, wait.progress)
                return False
        return bool(
            Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
                status=JobStatus.RUNNING,
                started_at=now,
                lease_expires_at=lease,
                attempts=F("attempts") + 1,
                progress="",
            )
        )


def job_wait_turn(job: Job, seconds: float, progress: str) -> None:
    """Leave the job queued, saying what it waits for, and send it again in ``seconds``."""
    now = timezone.now()
    with transaction.atomic():
        waiting = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            queued_at=now + timedelta(seconds=seconds), progress=progress[:200]
        )
        if waiting:
            job_dispatch(job_id=job.pk, countdown=seconds)
    logger.info("job %s, %s: again in %.0f s", job.pk, progress, seconds)


def job_lease_extend(job: Job) -> None:
    """Each certbot run gets a whole lease, so a job with several runs is not taken for lost."""
    lease = timezone.now() + timedelta(seconds=settings.CERTMATE_JOB_LEASE_SECONDS)
    if not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(lease_expires_at=lease):
        raise JobAbandoned


def retry_delay(attempt: int) -> float:
    return backoff_seconds(attempt, base=settings.CERTMATE_RETRY_BASE_SECONDS, cap=settings.CERTMATE_RETRY_MAX_SECONDS)


def job_failed_attempt(job: Job, exc: JobAttemptError, *, fail: Callable[[Job, str, str], None]) -> None:
    """A transient failure with attempts left goes back to the queue with backoff; anything else is
    handed to ``fail`` (job, one-line reason, output)."""
    reason = untrusted.one_line(exc.reason)
    attempts = Job.objects.values_list("attempts", flat=True).get(pk=job.pk)
    if exc.transient and attempts < settings.CERTMATE_RETRY_ATTEMPTS:
        now = timezone.now()
        delay = max(retry_delay(attempts), exc.retry_after or 0)
        with transaction.atomic():
            # Only while still ours: a job the sweep gave up on stays given up on.
            if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED,
                error=untrusted.one_line(f"attempt {attempts} failed, retrying in {delay:.0f} s: {reason}"),
                output=untrusted.clean_output(exc.output),
                queued_at=now + timedelta(seconds=delay),
                lease_expires_at=None,
            ):
                job_dispatch(job_id=job.pk, countdown=delay)
        return
    fail(job, reason, exc.output)


def job_finish_failed(job: Job, reason: str, output: str) -> bool:
    """running -> failed with the reason; False when the sweep gave the job up meanwhile. Call inside a
    transaction to change more with it."""
    return bool(
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            error=untrusted.one_line(reason),
            output=untrusted.clean_output(output),
            lease_expires_at=None,
        )
    )
