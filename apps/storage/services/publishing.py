"""Publishing versions to the tenant's storage target: queued after each issuance, retried with
backoff, and never touching the certificate in the database, whatever the target does."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.certificates.models import Certificate, CertificateVersion, EventKind
from apps.certificates.services.events import event_record
from apps.storage.backends.base import StorageError
from apps.storage.bundles import version_bundle
from apps.storage.models import Publication, PublicationState, StorageConfig
from apps.storage.services.config import AUDIT_TYPE, storage_backend, storage_config_active
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.backoff import backoff_seconds
from certmate.dispatch import dispatch_on_commit
from certmate.locks import PUBLISH, STORAGE_SLOT, one_slot_of, session_lock

logger = logging.getLogger(__name__)
# How long a publish waits for an earlier one of the same certificate before trying again later.
_LOCK_WAIT_SECONDS = 120


PUBLISH_TASK = "apps.storage.tasks.publication_publish_task"
WITHDRAW_TASK = "apps.storage.tasks.storage_withdraw_task"


def _dispatch(publication_id: int, countdown: float = 0) -> None:
    """Send the publish task once the transaction commits; the sweep sends lost publishes again
    (publications_retry_due)."""
    dispatch_on_commit(PUBLISH_TASK, (publication_id,), countdown=countdown)


def publication_request(*, version: CertificateVersion, target: StorageConfig | None = None) -> Publication:
    """Queue ``version`` for the active target (or ``target``); safe to repeat."""
    target = target or storage_config_active()
    publication, _ = Publication.objects.get_or_create(
        version=version, target=target, defaults={"next_attempt_at": timezone.now()}
    )
    if publication.state != PublicationState.PUBLISHED:
        _dispatch(publication.pk)
    return publication


def publication_republish(*, version: CertificateVersion) -> Publication:
    """Publish ``version`` again on the active target: what it says changed (revoked, say)."""
    publication = publication_request(version=version)
    Publication.objects.filter(pk=publication.pk).update(
        state=PublicationState.PENDING, attempts=0, last_error="", next_attempt_at=timezone.now()
    )
    if publication.state == PublicationState.PUBLISHED:
        _dispatch(publication.pk)  # publication_request sends only what is not published yet
    publication.refresh_from_db()
    return publication


def publications_request_all(*, target: StorageConfig) -> int:
    """Queue every certificate's current version for ``target``."""
    versions = CertificateVersion.objects.filter(pk__in=Certificate.objects.values("current_version"))
    count = 0
    for version in versions.iterator():
        publication_request(version=version, target=target)
        count += 1
    return count


def publish_retry_delay(attempt: int) -> float:
    base, cap = settings.CERTMATE_PUBLISH_RETRY_BASE_SECONDS, settings.CERTMATE_PUBLISH_RETRY_MAX_SECONDS
    return backoff_seconds(attempt, base=base, cap=cap)


def publication_publish(*, publication_id: int, retry: bool = True) -> Publication | None:
    """Store the publication's version in its target. A version no longer current is not published
    (a newer one is, or will be); a target no longer active hands over to the active one; a failure
    is recorded and, with ``retry``, tried again later.

    A publish from the queue (``retry``) runs in one of its tenant's storage slots: at most
    CERTMATE_TENANT_CONCURRENCY at once across all workers, so a tenant whose target answers slowly holds
    that many workers, never all of them; its other publishes wait their turn (sent again shortly)."""
    if not retry:
        return _publish(publication_id, retry=False)
    with one_slot_of(STORAGE_SLOT, "storage", settings.CERTMATE_TENANT_CONCURRENCY) as slot:
        if slot is None:
            base = settings.CERTMATE_TENANT_SLOT_RETRY_SECONDS
            _dispatch(publication_id, countdown=random.uniform(base, 2 * base))  # noqa: S311 - not a secret
            return Publication.objects.filter(pk=publication_id).first()
        return _publish(publication_id, retry=True)


def _publish(publication_id: int, *, retry: bool) -> Publication | None:
    """publication_publish, in a slot when it needs one.

    One publish per certificate at a time, so an older version never lands over a newer one: a session
    lock of the certificate, held on a connection of its own, not a transaction — none stays open while
    the target answers (the row is claimed in one short transaction and the outcome recorded in another,
    only if nobody asked for the publication again meanwhile)."""
    certificate_id = Publication.objects.filter(pk=publication_id).values_list("version__certificate_id", flat=True)
    certificate_id = certificate_id.first()
    if certificate_id is None:
        return None
    with session_lock(PUBLISH, str(certificate_id), wait_seconds=_LOCK_WAIT_SECONDS) as taken:
        if not taken:  # an earlier publish of this certificate still talks to the target: go after it
            if retry:
                _dispatch(publication_id, countdown=publish_retry_delay(1))
            return Publication.objects.filter(pk=publication_id).first()
        publication, claim = _claim(publication_id, certificate_id)
        if claim is None:
            return publication
        try:
            storage_backend(publication.target).store(version_bundle(publication.version))
        except StorageError as exc:
            return _failed(publication, exc.reason, retry=retry, claim=claim)
        except Exception as exc:
            # A bug or an error no backend mapped: recorded and retried like any failure, never left
            # pending with nothing said. Its text may carry what the target answered: the log has it.
            logger.exception("publishing %s failed unexpectedly", publication.version)
            return _failed(publication, f"internal error: {type(exc).__name__}", retry=retry, claim=claim)
        with transaction.atomic():
            _record(
                publication,
                claim=claim,
                state=PublicationState.PUBLISHED,
                last_error="",
                published_at=timezone.now(),
                next_attempt_at=None,
                attempts=publication.attempts + 1,
            )
        return publication


def _claim(publication_id: int, certificate_id: int) -> tuple[Publication | None, datetime | None]:
    """The publication and a claim (the time it is tried at, kept in next_attempt_at) when there is
    something to store; no claim when it is done, superseded or handed to the active target."""
    with transaction.atomic():
        publication = (
            Publication.objects.select_for_update(of=("self",))
            .select_related(
                "target", "version__authority", "version__certificate__ca_account", "version__certificate__dns_account"
            )
            .filter(pk=publication_id)
            .first()
        )
        if publication is None or publication.state in (PublicationState.PUBLISHED, PublicationState.SUPERSEDED):
            return publication, None
        current = Certificate.objects.filter(pk=certificate_id).values_list("current_version_id", flat=True).first()
        if current != publication.version_id:
            _record(publication, state=PublicationState.SUPERSEDED, last_error="", next_attempt_at=None)
            return publication, None
        if not publication.target.is_active:
            publication_request(version=publication.version)
            moved = "the tenant publishes to another target now"
            _record(publication, state=PublicationState.SUPERSEDED, last_error=moved, next_attempt_at=None)
            return publication, None
        claim = timezone.now()
        _record(publication, state=PublicationState.PENDING, next_attempt_at=claim)
        return publication, claim


def _record(publication: Publication, *, claim: datetime | None = None, **changes) -> bool:
    """Write ``changes``; with a claim, only if the publication is still as claimed (pending, not asked
    for again since). Whether they were written; if not, ``publication`` is read again."""
    changes["updated_at"] = timezone.now()
    rows = Publication.objects.filter(pk=publication.pk)
    if claim is not None:
        rows = rows.filter(state=PublicationState.PENDING, next_attempt_at=claim)
    if not rows.update(**changes):
        publication.refresh_from_db()
        return False
    for name, value in changes.items():
        setattr(publication, name, value)
    return True


def _failed(publication: Publication, reason: str, *, retry: bool, claim: datetime | None = None) -> Publication:
    attempts = publication.attempts + 1
    where = publication.target.get_backend_display()
    reason = " ".join(f"{publication.version}: publishing to {where} failed: {reason}".split())
    logger.warning("%s (attempt %s)", reason, attempts)
    with transaction.atomic():
        if retry and attempts < settings.CERTMATE_PUBLISH_ATTEMPTS:
            delay = publish_retry_delay(attempts)
            if _record(
                publication,
                claim=claim,
                state=PublicationState.PENDING,
                attempts=attempts,
                last_error=f"{reason}; retrying in {delay:.0f} s",
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            ):
                _dispatch(publication.pk, countdown=delay)
            return publication
        if _record(
            publication,
            claim=claim,
            state=PublicationState.FAILED,
            attempts=attempts,
            last_error=f"{reason}; run `manage.py storage resync` once the target is back",
            next_attempt_at=None,
        ):
            version = publication.version
            detail = {"target": where, "attempts": attempts, "reason": reason}
            event_record(
                kind=EventKind.PUBLICATION_FAILED, certificate=version.certificate, version=version, detail=detail
            )
    return publication


def publications_retry_due(*, now: datetime | None = None) -> int:
    """Send again pending publishes whose retry time has long passed (their message was lost)."""
    now = now or timezone.now()
    with transaction.atomic():
        cutoff = now - timedelta(minutes=5)
        stale = Publication.objects.select_for_update(skip_locked=True).filter(
            Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff),
            state=PublicationState.PENDING,
        )
        ids = list(stale.values_list("pk", flat=True))
        Publication.objects.filter(pk__in=ids).update(next_attempt_at=now)
        for publication_id in ids:
            _dispatch(publication_id)
    return len(ids)


@dataclass
class ResyncReport:
    target: str
    checked: int = 0
    published: int = 0
    failed: list[str] = field(default_factory=list)


def publications_resync(*, actor: Actor, progress: Callable[[str], None] | None = None) -> ResyncReport:
    """Publish, now, every current version the active target lacks: not yet published, failed, or
    gone from the target since (a store that lost its data). Safe to repeat."""
    target = storage_config_active()
    backend = storage_backend(target)
    report = ResyncReport(target=backend.describe())
    stored = {(item.kind, item.identifier): item.version for item in backend.list()}
    certificates = Certificate.objects.filter(current_version__isnull=False).select_related("current_version")
    for certificate in certificates.iterator():
        version = certificate.current_version
        report.checked += 1
        publication, _ = Publication.objects.get_or_create(version=version, target=target)
        there = stored.get((certificate.kind, certificate.identifier)) == version.number
        if publication.state == PublicationState.PUBLISHED and there:
            continue
        Publication.objects.filter(pk=publication.pk).update(state=PublicationState.PENDING)
        publication = publication_publish(publication_id=publication.pk, retry=False)
        if publication.state == PublicationState.PUBLISHED:
            report.published += 1
        else:
            report.failed.append(publication.last_error)
        if progress:
            progress(f"{certificate.kind}/{certificate.identifier} v{version.number}: {publication.state}")
    counts = {"checked": report.checked, "published": report.published, "failed": len(report.failed)}
    audit_record(
        actor=actor,
        action="storage.resynced",
        target=target,
        object_type=AUDIT_TYPE,
        object_name=report.target,
        changes=counts,
    )
    return report


def publication_withdraw_now(*, kind: str, identifier: str) -> bool:
    """Delete a deleted certificate's material from the active target (StorageError when it cannot). A
    certificate of that name made again since owns the name and its material: then nothing is deleted."""
    if Certificate.objects.filter(kind=kind, identifier=identifier).exists():
        logger.info("%s/%s exists again: its material is not withdrawn", kind, identifier)
        return False
    storage_backend(storage_config_active()).delete(kind, identifier)
    return True


def publication_withdraw(*, kind: str, identifier: str) -> None:
    """Remove a deleted certificate's material from the active target, in the background with retries."""
    dispatch_on_commit(WITHDRAW_TASK, (kind, identifier))
