"""Batch issuance from a private CA: many certificates in one request, issued by one job with a result
per row. A row that is refused (its profile, its name, ...) is reported with its reason and does not
stop the others; the same batch sent twice (its idempotency key) is recorded and issued once.

The job issues the rows a chunk at a time, each chunk in one transaction with the batch's progress and
results: an interrupted job leaves either a chunk's certificates and their results or neither, so a
re-run (a redelivered task) carries on from the first row without a result and issues nothing twice.
Each chunk holds the batch's row: a second run of the batch (a resent task) finding it held stops,
leaving the batch to the run that holds it."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.certificates.models import (
    BatchStatus,
    CertificateAuthority,
    CertificateProfile,
    IssuanceBatch,
    TenantSettings,
)
from apps.certificates.pki.batch_issuer import RowIssuer
from apps.certificates.pki.batch_rows import rows_clean, rows_sha256
from apps.certificates.pki.batches import IDEMPOTENCY_KEY
from apps.certificates.pki.search_path import search_path_pinned
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.dispatch import dispatch_on_commit

BATCH_TASK = "apps.certificates.tasks.certificate_batch_task"
INLINE_MAX_ROWS = 100
# Rows issued (and progress saved) per transaction: few enough that the tenant's audit chain, locked
# while a chunk's events are appended, is not held for long; enough that committing is not the cost.
CHUNK_ROWS = 50
# A batch unfinished this long after it was submitted is sent again when it is submitted again.
LOST_AFTER = timedelta(minutes=2)
_KEY = re.compile(IDEMPOTENCY_KEY)


def _profile_get(authority: CertificateAuthority, profile) -> CertificateProfile | None:
    if profile is None or isinstance(profile, CertificateProfile):
        if profile is not None and profile.authority_id != authority.pk:
            raise ValidationError({"profile": "this profile belongs to another CA"}, code="invalid")
        return profile
    found = authority.profiles.filter(name=str(profile)[:80]).first()
    if found is None:
        raise ValidationError(
            {"profile": f"CA {authority.name!r} has no profile {str(profile)[:80]!r}"}, code="invalid"
        )
    return found


def _usable(authority: CertificateAuthority) -> None:
    if not authority.can_issue:
        raise ValidationError(
            f"CA {authority.name!r} issues no certificates (it is {authority.state}, or a root)", code="ca_unavailable"
        )


def batch_submit(
    *, authority: CertificateAuthority, rows, idempotency_key: str, actor: Actor, profile=None
) -> tuple[IssuanceBatch, bool]:
    """Record a batch of ``rows`` to issue from ``authority`` and send its job once this commits:
    (the batch, True). The same key again: (the batch recorded then, False) when it came with the same
    rows, CA and profile, else a ValidationError ``idempotency_conflict``. Rows of the wrong shape are
    refused up-front with their number; what each row asks for is checked as it is issued."""
    if not isinstance(idempotency_key, str) or not _KEY.fullmatch(idempotency_key):
        raise ValidationError(
            {"idempotency_key": "use 1 to 100 letters, digits or . _ : -"}, code="invalid_idempotency_key"
        )
    profile = _profile_get(authority, profile)
    cleaned = rows_clean(rows)
    digest = rows_sha256(cleaned, authority_id=authority.pk, profile=profile.name if profile else "")
    existing = _existing(idempotency_key, digest)
    if existing is not None:
        _resend_if_lost(existing)
        return existing, False
    _usable(authority)
    try:
        with transaction.atomic():
            batch = IssuanceBatch.objects.create(
                idempotency_key=idempotency_key,
                authority=authority,
                profile=profile,
                rows=cleaned,
                rows_sha256=digest,
                total=len(cleaned),
                requested_by=actor.user if actor.user_id else None,
                requested_by_name=actor.name[:254],
                requested_channel=str(actor.channel),
                requested_token_prefix=actor.token_prefix[:20],
                requested_ip=actor.ip_address or "",
                requested_user_agent=actor.user_agent[:300],
            )
            _audit(batch, actor, "certificate_batch.submitted", {
                "authority": authority.name, "profile": profile.name if profile else None,
                "rows": len(cleaned), "idempotency_key": idempotency_key,
            })  # fmt: skip
            dispatch_on_commit(BATCH_TASK, (batch.pk,))
    except IntegrityError:  # the same key, recorded meanwhile by a concurrent request
        existing = _existing(idempotency_key, digest)
        if existing is None:
            raise
        return existing, False
    return batch, True


def _existing(idempotency_key: str, digest: str) -> IssuanceBatch | None:
    batch = IssuanceBatch.objects.defer("rows", "results").filter(idempotency_key=idempotency_key).first()
    if batch is not None and batch.rows_sha256 != digest:
        raise ValidationError(
            f"idempotency key {idempotency_key!r} was used for a different batch (other rows, CA or profile)",
            code="idempotency_conflict",
        )
    return batch


def _resend_if_lost(batch: IssuanceBatch) -> None:
    """A batch unfinished well after it was submitted may have lost its task (a broker down, a job
    stopped by a database failure): sending it again is safe, since a run leaves a batch that another
    run holds, and skips the rows that have a result."""
    if batch.finished_at is None and timezone.now() - batch.created_at > LOST_AFTER:
        dispatch_on_commit(BATCH_TASK, (batch.pk,))


def _audit(batch: IssuanceBatch, actor: Actor, action: str, changes: dict) -> None:
    audit_record(
        actor=actor, action=action, object_type="certificate_batch", object_id=batch.pk,
        object_name=batch.idempotency_key, changes=changes,
    )  # fmt: skip


def batch_actor(batch: IssuanceBatch) -> Actor:
    """Who the batch's certificates are issued for: the user (and channel, token, address) that
    submitted it, as the audit log would have recorded them had each been asked for alone."""
    return Actor(
        channel=batch.requested_channel or "system",
        user=batch.requested_by,
        name=batch.requested_by_name or "batch",
        token_prefix=batch.requested_token_prefix,
        ip_address=batch.requested_ip or None,
        user_agent=batch.requested_user_agent,
    )


def batch_run(*, batch_id: int) -> IssuanceBatch | None:
    """The batch's job: issue the rows that have no result yet, a chunk per transaction; finish the
    batch (its status and an audit record) with the last one. Safe to repeat; None if it is gone."""
    batch = IssuanceBatch.objects.select_related("authority", "profile", "requested_by").filter(pk=batch_id).first()
    if batch is None or batch.finished_at is not None:
        return batch
    issuer = RowIssuer(authority=batch.authority, profile=batch.profile, actor=batch_actor(batch))
    with search_path_pinned(), TenantSettings.held():
        _rows_issue(batch, issuer)
    return IssuanceBatch.objects.defer("rows").filter(pk=batch_id).first()


def _rows_issue(batch: IssuanceBatch, issuer: RowIssuer) -> None:
    batch_id = batch.pk
    results = list(batch.results)
    while True:
        with transaction.atomic():
            # A batch locked by another run is left to it: runs take turns instead of waiting in line.
            state = IssuanceBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id)
            state = state.values_list("done", "finished_at").first()
            if state is None or state[1] is not None:
                break  # deleted, being run, or finished meanwhile
            if state[0] != len(results):  # another run got further: carry on from its results
                results = list(IssuanceBatch.objects.values_list("results", flat=True).get(pk=batch_id))
            start = len(results)
            chunk = batch.rows[start : start + CHUNK_ROWS]
            results += [issuer.issue(start + number, row) for number, row in enumerate(chunk, start=1)]
            if _progress(batch, results):
                break


def _progress(batch: IssuanceBatch, results: list[dict]) -> bool:
    """Save the results so far (in the chunk's transaction); True once every row has one."""
    now = timezone.now()
    succeeded = sum(1 for result in results if result["status"] == "issued")
    failed = len(results) - succeeded
    finished = len(results) >= batch.total
    status = _status(succeeded, failed) if finished else BatchStatus.RUNNING
    IssuanceBatch.objects.filter(pk=batch.pk).update(
        results=results, done=len(results), succeeded=succeeded, failed=failed, status=status,
        started_at=batch.started_at or now, finished_at=now if finished else None,
    )  # fmt: skip
    batch.started_at = batch.started_at or now
    if finished:
        _audit(batch, Actor.system("batch"), "certificate_batch.finished", {
            "status": status.value, "issued": succeeded, "failed": failed, "rows": batch.total,
        })  # fmt: skip
    return finished


def _status(succeeded: int, failed: int) -> BatchStatus:
    if not failed:
        return BatchStatus.SUCCEEDED
    return BatchStatus.FAILED_PARTIALLY if succeeded else BatchStatus.FAILED


def batch_run_inline(*, authority: CertificateAuthority, rows, actor: Actor, profile=None) -> list[dict]:
    """Issue up to INLINE_MAX_ROWS rows now (for synchronous endpoints), by the batch's rules: a result
    per row, {row, identifier, status ("issued" or "failed"), error, code}; refused rows do not stop the
    others. Rows of the wrong shape, too many rows or an unusable CA are refused as a whole."""
    if isinstance(rows, list) and len(rows) > INLINE_MAX_ROWS:
        raise ValidationError(f"at most {INLINE_MAX_ROWS} rows here (got {len(rows)})", code="too_many_rows")
    profile = _profile_get(authority, profile)
    cleaned = rows_clean(rows)
    _usable(authority)
    issuer = RowIssuer(authority=authority, profile=profile, actor=actor)
    with transaction.atomic():
        return [issuer.issue(number, row) for number, row in enumerate(cleaned, start=1)]
