"""A bulk reissue's task: each pass moves every open item one step further, then sends itself again a
few seconds later while items are open; beat's event sweep sends a pass again for a bulk reissue whose
task was lost.

    pending ──(room at its CA account)──> renewing ──(job succeeded)──> publishing ──(new version live)──>
        revoking (revoke_old) ──(job succeeded)──> done      a failed job: failed

An item is ordered through certificate_renew (forced; an open job of the certificate is followed
instead), only while its CA account has room in its order window (reissue_orders). Nothing is revoked
before the new version is stored and published on the tenant's storage target (apps.certificates.
publication); a failed renewal leaves the old version current and unrevoked.

Every step is safe to repeat: each item is advanced under its row lock in a transaction of its own
(another pass skips it meanwhile), and every step reads what the previous one recorded (its job, its
version). A redelivered task, two workers at once or a pass cut short by a lost worker do no harm; a
task lost for good is sent again (reissue_resume)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.certificates import untrusted
from apps.certificates.models import (
    BulkReissue,
    JobStatus,
    ReissueItem,
    ReissueItemStatus,
    ReissueStatus,
)
from apps.certificates.publication import version_publication
from apps.certificates.reissue_selectors import with_results
from apps.certificates.selectors import OPEN_JOB_STATUSES
from apps.certificates.services.reissue import REISSUE_TASK, reissue_audit, requester
from apps.certificates.services.reissue_orders import OrderWait, order_room
from apps.certificates.services.reissue_resume import HEARTBEAT, OPEN
from apps.certificates.services.requests import CertificateRequestError, certificate_renew
from apps.certificates.services.revocation import certificate_revoke
from certmate.actors import Actor
from certmate.dispatch import dispatch_on_commit

logger = logging.getLogger(__name__)
S = ReissueItemStatus
SYSTEM = Actor.system("bulk reissue")
PASS_SECONDS = 3  # the next pass while renewals, publications or revocations are under way
IDLE_SECONDS = 60  # at most, while every open item waits for its CA account's order window


class _Pass:
    """What one pass learns as it goes: the CA accounts with no room left, and whether anything moves."""

    def __init__(self, bulk: BulkReissue, now: datetime):
        self.bulk = bulk
        self.now = now
        self.actor = requester(bulk)
        self.full: dict[int, OrderWait] = {}
        self.moving = False


def bulk_reissue_advance(*, bulk_id: int) -> BulkReissue | None:
    """One pass over the bulk reissue's open items; finishes it when none is left open, else sends the
    next pass. None if it is gone."""
    bulk = BulkReissue.objects.select_related("requested_by").filter(pk=bulk_id).first()
    if bulk is None or bulk.finished_at is not None:
        return bulk
    now = timezone.now()
    _start(bulk, now)
    run = _Pass(bulk, now)
    open_items = bulk.items.filter(status__in=OPEN)
    # Items whose job is still queued or running have nothing to do this pass: not locked, read or written.
    busy = Q(status=S.RENEWING, renewal_job__status__in=OPEN_JOB_STATUSES) | Q(
        status=S.REVOKING, revocation_job__status__in=OPEN_JOB_STATUSES
    )
    if open_items.filter(busy).exists():
        run.moving = True
    rows = open_items.exclude(busy).order_by("pk").values_list("pk", "status", "certificate__ca_account_id")
    waiting: dict[int, list[int]] = {}
    for item_id, status, account_id in list(rows):
        if status == S.PENDING and account_id in run.full:
            waiting.setdefault(account_id, []).append(item_id)  # no room there this pass: said at once below
            continue
        try:
            _advance(item_id, run)
        except Exception:  # one item's trouble must not hold up the others; the next pass tries it again
            logger.exception("bulk reissue %s: item %s could not be advanced", bulk.pk, item_id)
            run.moving = True
    for account_id, item_ids in waiting.items():
        reason = run.full[account_id].reason
        ReissueItem.objects.filter(pk__in=item_ids, status=S.PENDING).exclude(error=reason).update(
            error=reason, updated_at=now
        )
    return _settle(run)


def _start(bulk: BulkReissue, now: datetime) -> None:
    with transaction.atomic():
        if BulkReissue.objects.filter(pk=bulk.pk, status=ReissueStatus.QUEUED).update(
            status=ReissueStatus.RUNNING, started_at=now
        ):
            reissue_audit(bulk, SYSTEM, "bulk_reissue.started", {"status": ["queued", "running"]})
    bulk.started_at = bulk.started_at or now


def _advance(item_id: int, run: _Pass) -> None:
    with transaction.atomic():
        rows = with_results(ReissueItem.objects.select_for_update(skip_locked=True, of=("self",)))
        item = rows.filter(pk=item_id, status__in=OPEN).first()
        if item is None:
            return  # another pass has it, or it was finished meanwhile
        STEPS[item.status](item, run)


def _order(item: ReissueItem, run: _Pass) -> None:
    """pending: a forced renewal, once the certificate's CA account has room for one more order."""
    account_id = item.certificate.ca_account_id
    wait = order_room(account_id, now=run.now) if account_id is not None else None
    if wait is not None:
        run.full[account_id] = wait
        _note(item, wait.reason)
        return
    run.moving = True
    try:
        job, _ = certificate_renew(certificate=item.certificate, force=True, actor=run.actor)
    except CertificateRequestError as exc:
        said = "; ".join(exc.messages)
        if exc.code == "job_open":  # its revocation runs: ordered once that has finished
            _note(item, f"waiting: {said}")
        else:
            _move(item, run, S.FAILED, error=f"not renewed: {said}")
        return
    _move(item, run, S.RENEWING, renewal_job=job)


def _renewing(item: ReissueItem, run: _Pass) -> None:
    """renewing: its job succeeded (the new version is stored) or failed (nothing replaced, nothing revoked)."""
    run.moving = True
    job = item.renewal_job
    if job is not None and job.status in OPEN_JOB_STATUSES:
        return
    old = f"v{item.old_version.number}" if item.old_version else "the old version"
    if job is None or job.status != JobStatus.SUCCEEDED:
        why = job.error if job is not None else "its renewal job was deleted"
        _move(item, run, S.FAILED, error=f"renewal failed ({old} stays current, not revoked): {why}")
        return
    if job.version is None or job.version_id == item.old_version_id:
        _move(item, run, S.FAILED, error=f"renewal job {job.pk} stored no new version ({old} was not revoked)")
        return
    _move(item, run, S.PUBLISHING, new_version=job.version)
    _publishing(item, run)


def _publishing(item: ReissueItem, run: _Pass) -> None:
    """publishing: the new version (or a later one) is on the storage target; only then the old one is
    revoked, when asked for."""
    live = version_publication(item.new_version)
    if not live.published:
        # A publication that gave up waits for a resync, not for the next pass: no reason to come back soon.
        run.moving = run.moving or not live.stalled
        _note(item, live.waiting)
        return
    run.moving = True
    old = item.old_version
    if not run.bulk.revoke_old or old is None:
        _move(item, run, S.DONE)
        return
    try:
        job = certificate_revoke(
            certificate=item.certificate, reason=run.bulk.reason, version_number=old.number, actor=run.actor
        )
    except CertificateRequestError as exc:
        said = "; ".join(exc.messages)
        if exc.code == "job_open":  # another job of the certificate runs: revoked once it has finished
            _note(item, f"waiting to revoke v{old.number}: {said}")
            return
        _move(item, run, S.FAILED, error=f"v{item.new_version.number} is live; v{old.number} was not revoked: {said}")
        return
    _move(item, run, S.REVOKING, revocation_job=job)
    _revoking(item, run)


def _revoking(item: ReissueItem, run: _Pass) -> None:
    """revoking: done once the old version's revocation job succeeded (or it was revoked before)."""
    run.moving = True
    job = item.revocation_job
    if job is not None and job.status in OPEN_JOB_STATUSES:
        return
    if job is not None and job.status == JobStatus.SUCCEEDED:
        _move(item, run, S.DONE)
        return
    old, new = item.old_version, item.new_version
    why = job.error if job is not None else "its revocation job was deleted"
    # What to do comes first: a CA's long answer is cut short at the end.
    said = f"v{new.number} is live but v{old.number if old else '?'} is not revoked (revoke it again by hand): {why}"
    _move(item, run, S.FAILED, error=said)


STEPS: dict[str, Callable[[ReissueItem, _Pass], None]] = {
    S.PENDING: _order,
    S.RENEWING: _renewing,
    S.PUBLISHING: _publishing,
    S.REVOKING: _revoking,
}


def _note(item: ReissueItem, waiting: str) -> None:
    """What an item waits for, kept in its error field while it is open (shown as its progress)."""
    waiting = untrusted.one_line(waiting)[:500]
    if item.error != waiting:
        ReissueItem.objects.filter(pk=item.pk).update(error=waiting, updated_at=timezone.now())
        item.error = waiting


def _move(item: ReissueItem, run: _Pass, status: str, *, error: str = "", **fields) -> None:
    """The item's next state, with what it records (job, version), and its audit record."""
    before = item.status
    error = untrusted.one_line(error)[:2000]
    for name, value in fields.items():
        setattr(item, name, value)
    item.status, item.error = status, error
    item.save(update_fields=["status", "error", "updated_at", *fields])
    changes = {"certificate": item.certificate.identifier, "status": [before, status]}
    for name, value in fields.items():
        changes[name] = getattr(value, "number", None) or value.pk
    if error:
        changes["error"] = error
    reissue_audit(run.bulk, SYSTEM, "bulk_reissue.item_changed", changes)


def _settle(run: _Pass) -> BulkReissue:
    """The counts of the bulk reissue; finished once no item is open, else the next pass sent."""
    bulk, now = run.bulk, timezone.now()
    counted = bulk.items.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN)),
        total=Count("pk"),
        renewed=Count("pk", filter=Q(new_version__isnull=False)),
        revoked=Count("pk", filter=Q(status=S.DONE, revocation_job__status=JobStatus.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
    )
    still_open, total = counted.pop("open"), counted.pop("total")
    if still_open:
        BulkReissue.objects.filter(pk=bulk.pk).update(**counted)
        _next_pass(run)
    else:
        _finish(bulk, total, counted, now)
    return BulkReissue.objects.filter(pk=bulk.pk).first()


def _finish(bulk: BulkReissue, total: int, counted: dict, now: datetime) -> None:
    failed = counted["failed"]
    status = (
        ReissueStatus.SUCCEEDED
        if not failed
        else (ReissueStatus.FAILED_PARTIALLY if failed < total else ReissueStatus.FAILED)
    )
    with transaction.atomic():
        # total: what it did handle (a certificate deleted meanwhile took its item along).
        if BulkReissue.objects.filter(pk=bulk.pk, finished_at__isnull=True).update(
            status=status, finished_at=now, total=total, **counted
        ):
            reissue_audit(bulk, SYSTEM, "bulk_reissue.finished", {"status": status.value, "total": total, **counted})


def _next_pass(run: _Pass) -> None:
    """Sent again soon while anything moves; while every open item waits for an order window (or for a
    publication that gave up), when the first window makes room (at most IDLE_SECONDS). The open items
    are marked as looked at."""
    countdown = PASS_SECONDS
    if not run.moving:
        untils = [wait.until for wait in run.full.values() if wait.until is not None]
        earliest = (min(untils) - run.now).total_seconds() if untils else IDLE_SECONDS
        countdown = min(IDLE_SECONDS, max(PASS_SECONDS, earliest + 1))
    now = timezone.now()
    run.bulk.items.filter(status__in=OPEN, updated_at__lt=now - HEARTBEAT).update(updated_at=now)
    dispatch_on_commit(REISSUE_TASK, (run.bulk.pk,), countdown=countdown)
