"""CertMate's synchronous answers: create, renew and reissue wait for their job (bounded), unless the
client asks for ``async`` or the tenant already holds its share of waiting web threads."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from apps.certificates.models import Job
from apps.certificates.selectors import OPEN_JOB_STATUSES, job_wait

TRUTHY = ("1", "true", "yes", "on")


def sync_wait_seconds() -> float:
    """How long a CertMate call waits for its job before answering 202 (CertMate waits for certbot;
    certmate bounds it)."""
    return float(settings.CERTMATE_API_SYNC_WAIT_SECONDS)


@contextlib.contextmanager
def sync_wait_slot():
    """One of the tenant's CERTMATE_API_SYNC_WAITS_PER_TENANT slots for a request that waits for its job
    (the cache key carries the tenant), so one tenant's scripts cannot hold every web thread."""
    key = "api-sync-waits"
    cache.add(key, 0, timeout=settings.CERTMATE_API_SYNC_WAIT_SECONDS + 60)
    try:
        waiting = cache.incr(key)
    except ValueError:  # the counter expired just now: this one waits uncounted
        yield True
        return
    try:
        yield waiting <= settings.CERTMATE_API_SYNC_WAITS_PER_TENANT
    finally:
        with contextlib.suppress(ValueError):
            cache.decr(key)


def can_wait() -> bool:
    """Inside a transaction (ATOMIC_REQUESTS, a test) the job is only sent to a worker at commit, after
    this request: waiting for it would wait out the whole deadline for nothing."""
    return not connection.in_atomic_block


def wants_async(request, body: dict) -> bool:
    """CertMate's opt-in: ``"async": true`` in the body or ``?async=`` in the query string."""
    flag = body.get("async")
    if isinstance(flag, str):
        flag = flag.strip().lower() in TRUTHY
    return bool(flag) or request.query_params.get("async", "").strip().lower() in TRUTHY


def job_finished(job: Job, *, asynchronous: bool) -> Job | None:
    """The job once finished, waiting for it as CertMate's synchronous calls do; None when the answer must
    be the job as it stands (asked async, inside a transaction, no free slot, or still open at the deadline)."""
    if asynchronous or not can_wait():
        return None
    with sync_wait_slot() as slot:
        if not slot:  # this tenant already holds its share of waiting web threads
            return None
        job = job_wait(job_id=job.pk, timeout_seconds=sync_wait_seconds())
    return None if job.status in OPEN_JOB_STATUSES else job
