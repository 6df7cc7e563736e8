"""Bulk revocation: every certificate version a CA signed that a selector matches (of a subject, of a
profile, signed before a date; combinable), revoked for one reason by one job with its progress and a
result per version, e.g. after a key compromise.

What it matches: versions the CA signed before the bulk revocation was asked for, not expired then,
not revoked yet (or on hold, when the reason is not a hold itself: a hold is made final). Old versions
count as much as current ones: a renewed certificate's previous version stays valid until it expires.

The job revokes a chunk of versions per transaction, with its progress and results; each version
keeps its own event and audit record, but no CRL is signed per version (10,000 revocations must not
sign 10,000 CRLs): one is signed with the last chunk. An interrupted job carries on from the last
version with a result when it runs again (a redelivered task), and a second run finding the bulk
revocation held by another leaves it to that one."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.certificates.models import (
    BulkRevocation,
    BulkRevocationStatus,
    CertificateAuthority,
    CertificateVersion,
)
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.revocation_rules import HOLD, field_error, invalidity_date_clean, reason_clean
from apps.certificates.pki.revoking import private_version_revoke
from apps.certificates.pki.search_path import search_path_pinned
from certmate.actors import Actor, Channel
from certmate.audit.services import audit_record
from certmate.dispatch import dispatch_on_commit

BULK_TASK = "apps.certificates.tasks.bulk_revocation_task"
SELECTOR_KEYS = ("subject", "profile", "issued_before")
# Versions revoked (and progress saved) per transaction: the tenant's audit chain is locked while a
# chunk's records are appended, so not too many; enough that rewriting the results is not the cost.
CHUNK_VERSIONS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(value) -> datetime | None:
    """An ISO date (midnight UTC) or date-time (UTC when it names no zone), or a date/datetime."""
    if isinstance(value, str) and len(value) <= 40:
        try:
            value = parse_datetime(value) or parse_date(value)
        except ValueError:
            value = None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def selector_clean(authority: CertificateAuthority, selector) -> dict:
    """The selector as stored: ``subject`` (a common name, any case), ``profile`` (one of the CA's),
    ``issued_before`` (ISO date or date-time); at least one."""
    if not isinstance(selector, dict) or set(selector) - set(SELECTOR_KEYS):
        raise field_error("selector", f"use {', '.join(SELECTOR_KEYS)} (combinable)")
    cleaned = {}
    subject = selector.get("subject")
    if subject not in (None, ""):
        if not isinstance(subject, str) or len(subject) > 256 or _CONTROL.search(subject) or not subject.strip():
            raise field_error("subject", "a common name: at most 256 printable characters")
        cleaned["subject"] = subject.strip()
    profile = selector.get("profile")
    if profile not in (None, ""):
        if not isinstance(profile, str) or not authority.profiles.filter(name=profile[:80]).exists():
            shown = str(profile)[:80]
            raise field_error("profile", f"CA {authority.name!r} has no profile {shown!r}")
        cleaned["profile"] = profile
    before = selector.get("issued_before")
    if before not in (None, ""):
        moment = _moment(before)
        if moment is None or moment.year < 1970 or moment.year > 9000:
            raise field_error("issued_before", "an ISO 8601 date or date and time")
        cleaned["issued_before"] = moment.astimezone(UTC).isoformat()
    if not cleaned:
        raise field_error("selector", "say what to revoke: subject, profile and/or issued_before")
    return cleaned


def bulk_matches(*, authority: CertificateAuthority, selector: dict, reason: str, as_of: datetime):
    """The versions a (cleaned) selector matches now, signed by ``as_of`` and valid then, in id order."""
    unrevoked = Q(revoked_at__isnull=True) | (Q(revocation_reason=HOLD) if reason != HOLD else Q(pk__in=[]))
    rows = CertificateVersion.objects.filter(unrevoked, authority=authority, created_at__lte=as_of,
                                             not_after__gt=as_of)  # fmt: skip
    if "subject" in selector:
        rows = rows.filter(certificate__subject_fields__common_name__iexact=selector["subject"])
    if "profile" in selector:
        rows = rows.filter(certificate__profile__authority=authority, certificate__profile__name=selector["profile"])
    if "issued_before" in selector:
        rows = rows.filter(created_at__lt=datetime.fromisoformat(selector["issued_before"]))
    return rows.order_by("pk")


def bulk_revoke_preview(*, authority: CertificateAuthority, selector, reason: str = "unspecified") -> int:
    """How many versions a bulk revocation with this selector would revoke now."""
    reason = reason_clean(reason)
    cleaned = selector_clean(authority, selector)
    return bulk_matches(authority=authority, selector=cleaned, reason=reason, as_of=timezone.now()).count()


def bulk_revoke_submit(
    *, authority: CertificateAuthority, selector, reason: str, actor: Actor, invalidity_date=None
) -> BulkRevocation:
    """Record a bulk revocation and send its job once this commits. ``total``: what it matches now.
    ``invalidity_date`` (keyCompromise): applied to each version no earlier than its notBefore. The job
    matches versions signed before the row was recorded (its ``created_at``), so every run of it sees
    the same ones."""
    reason = reason_clean(reason)
    cleaned = selector_clean(authority, selector)
    now = timezone.now()
    invalidity = invalidity_date_clean(invalidity_date, reason=reason, not_before=_EARLIEST, now=now)
    with transaction.atomic():
        total = bulk_matches(authority=authority, selector=cleaned, reason=reason, as_of=now).count()
        bulk = BulkRevocation.objects.create(
            authority=authority, selector=cleaned, reason=reason, invalidity_date=invalidity, total=total,
            requested_by=actor.user if actor.user_id else None, requested_by_name=actor.name[:254],
        )  # fmt: skip
        _audit(bulk, actor, "bulk_revocation.submitted", {
            "authority": authority.name, "selector": cleaned, "reason": reason, "invalidity_date": invalidity,
            "matching": total,
        })  # fmt: skip
        dispatch_on_commit(BULK_TASK, (bulk.pk,))
    return bulk


def _audit(bulk: BulkRevocation, actor: Actor, action: str, changes: dict) -> None:
    audit_record(actor=actor, action=action, object_type="bulk_revocation", object_id=bulk.pk,
                 object_name=f"{bulk.authority.name} #{bulk.pk}", changes=changes)  # fmt: skip


def bulk_actor(bulk: BulkRevocation) -> Actor:
    """Who the job revokes for, as the audit log records each version: whoever asked."""
    return Actor(channel=Channel.SYSTEM, user=bulk.requested_by, name=bulk.requested_by_name or "bulk revocation")


def bulk_revocations(*, authority: CertificateAuthority) -> QuerySet[BulkRevocation]:
    return BulkRevocation.objects.filter(authority=authority).select_related("authority")


def bulk_revocation_run(*, bulk_id: int) -> BulkRevocation | None:
    """The job: revoke what the bulk revocation matches, a chunk per transaction, and sign the CA's CRL
    with the last one. Safe to repeat; None if it is gone."""
    bulk = BulkRevocation.objects.select_related("authority", "requested_by").filter(pk=bulk_id).first()
    if bulk is None or bulk.finished_at is not None:
        return bulk
    actor = bulk_actor(bulk)
    with search_path_pinned():
        _chunks(bulk, actor)
    return BulkRevocation.objects.filter(pk=bulk_id).first()


def _chunks(bulk: BulkRevocation, actor: Actor) -> None:
    results = list(bulk.results)
    while True:
        with transaction.atomic():
            state = BulkRevocation.objects.select_for_update(skip_locked=True).filter(pk=bulk.pk)
            state = state.values_list("done", "finished_at").first()
            if state is None or state[1] is not None:
                return  # deleted, run by another, or finished meanwhile
            if state[0] != len(results):  # another run got further: carry on from its results
                results = list(BulkRevocation.objects.values_list("results", flat=True).get(pk=bulk.pk))
            after = results[-1]["id"] if results else 0
            matches = bulk_matches(authority=bulk.authority, selector=bulk.selector, reason=bulk.reason,
                                   as_of=bulk.created_at).filter(pk__gt=after)  # fmt: skip
            chunk = list(matches.select_related("certificate")[:CHUNK_VERSIONS])
            results += [_revoke_one(bulk, version, actor) for version in chunk]
            if _progress(bulk, results, finished=len(chunk) < CHUNK_VERSIONS):
                return


def _revoke_one(bulk: BulkRevocation, version: CertificateVersion, actor: Actor) -> dict:
    result = {"id": version.pk, "identifier": version.certificate.identifier, "version": version.number,
              "serial": version.serial, "status": "revoked"}  # fmt: skip
    invalidity = bulk.invalidity_date
    if invalidity is not None:
        invalidity = max(invalidity, version.not_before)
    try:
        private_version_revoke(version=version, reason=bulk.reason, actor=actor, invalidity_date=invalidity,
                               publish=False, note=f"bulk revocation {bulk.pk}")  # fmt: skip
    except ValidationError as exc:
        # Revoked for another reason since the chunk was read: its own revocation stands.
        result["status"] = "skipped" if getattr(exc, "code", None) == "revoked" else "failed"
        result["error"] = "; ".join(exc.messages)[:300]
    return result


def _progress(bulk: BulkRevocation, results: list[dict], *, finished: bool) -> bool:
    """Save the results so far (in the chunk's transaction); at the end, the CRL and the audit record."""
    now = timezone.now()
    revoked = sum(1 for result in results if result["status"] == "revoked")
    failed = sum(1 for result in results if result["status"] == "failed")
    status = _status(revoked, failed) if finished else BulkRevocationStatus.RUNNING
    fields = {"results": results, "done": len(results), "revoked": revoked, "failed": failed, "status": status,
              "started_at": bulk.started_at or now, "finished_at": now if finished else None}  # fmt: skip
    if finished:
        fields["total"] = len(results)  # what it did match (others may have revoked some meanwhile)
    BulkRevocation.objects.filter(pk=bulk.pk).update(**fields)
    bulk.started_at = bulk.started_at or now
    if finished:
        if revoked:
            crl_publish(authority=bulk.authority, now=now)
        _audit(bulk, Actor.system("bulk revocation"), "bulk_revocation.finished", {
            "status": status.value, "revoked": revoked, "failed": failed, "skipped": len(results) - revoked - failed,
        })  # fmt: skip
    return finished


def _status(revoked: int, failed: int) -> BulkRevocationStatus:
    if not failed:
        return BulkRevocationStatus.SUCCEEDED
    return BulkRevocationStatus.FAILED_PARTIALLY if revoked else BulkRevocationStatus.FAILED
