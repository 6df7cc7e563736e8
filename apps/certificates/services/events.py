"""Recording certificate events with the change they describe, and delivering them to their consumers
(``apps.certificates.events``) at least once, exactly once in effect.

An event is written in the caller's transaction and its processing is sent once that commits. A
worker that dies in between, a broker that drops the message, a consumer that fails: the event stays
unprocessed, and the sweep (every minute, CERTMATE_EVENT_SWEEP_INTERVAL_SECONDS) sends it again.

Each consumer takes an event in a transaction of its own, holding the event's row: its handler runs
and its delivery row is written together, so an interrupted run never delivers twice, and a consumer
that fails waits for its retry (with backoff) without holding up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.selectors import tenants_active
from apps.certificates.events import Consumer, consumers_of, minute_hooks_run
from apps.certificates.models import Certificate, CertificateEvent, CertificateVersion, EventDelivery
from certmate.backoff import backoff_seconds
from certmate.dispatch import dispatch_on_commit

logger = logging.getLogger(__name__)

EVENTS_TASK = "apps.certificates.tasks.events_process_task"
EVENTS_SWEEP_TASK = "apps.certificates.tasks.events_sweep_all_task"
# The sweep leaves an event this long to the task sent when it was recorded.
SWEEP_GRACE = timedelta(seconds=20)
_DETAIL_ITEMS = 20
_DETAIL_LENGTH = 500
_ERROR_LENGTH = 2000


def detail_bounded(
    detail: Mapping[str, Any] | None, *, items: int = _DETAIL_ITEMS, length: int = _DETAIL_LENGTH
) -> dict[str, Any]:
    """A few facts, bounded: scalar values, strings cut short (an event's detail, a notice's facts)."""
    bounded = {}
    for key, value in list((detail or {}).items())[:items]:
        if value is not None and not isinstance(value, bool | int | float):
            value = str(value).replace("\x00", "")[:length]
        bounded[str(key)[:50]] = value
    return bounded


@transaction.atomic(savepoint=False)  # no savepoint of its own, as audit_record: two statements fewer per write
def event_record(
    *,
    kind: str,
    certificate: Certificate,
    version: CertificateVersion | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CertificateEvent:
    """Record that ``kind`` happened to ``certificate`` (a deleted one too: its name is copied), in the
    caller's transaction; its consumers get it once that commits."""
    event = CertificateEvent.objects.create(
        kind=kind,
        certificate_id=certificate.pk,  # None once deleted
        identifier=certificate.identifier,
        certificate_kind=certificate.kind,
        version=version,
        version_number=version.number if version is not None else None,
        detail=detail_bounded(detail),
    )
    dispatch_on_commit(EVENTS_TASK, (event.pk,))
    return event


def events_due(*, now: datetime | None = None) -> QuerySet[CertificateEvent]:
    """Unprocessed events whose time has come, oldest first (the partial index over unprocessed rows)."""
    now = now or timezone.now()
    return CertificateEvent.objects.filter(processed_at__isnull=True, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "id"
    )


def events_process(*, event_id: int | None = None, limit: int | None = None, now: datetime | None = None) -> int:
    """Deliver the event ``event_id``, or a batch of the due ones, to their consumers. Returns how many
    events every consumer now has. Safe to run twice, and beside another run."""
    if event_id is not None:
        ids = [event_id]
    else:
        ids = list(events_due(now=now).values_list("pk", flat=True)[: limit or settings.CERTMATE_EVENT_BATCH])
    return sum(event_deliver(event_id=pk) for pk in ids)


def _locked(event_id: int) -> CertificateEvent | None:
    """The unprocessed event, locked for this transaction; None when it is done or another run holds it."""
    rows = CertificateEvent.objects.select_for_update(skip_locked=True, of=("self",))
    return rows.filter(pk=event_id, processed_at__isnull=True).first()


def event_deliver(*, event_id: int) -> bool:
    """Hand the event to each of its consumers that lacks it and whose retry is due, each in its own
    transaction; mark it processed once all have it. Whether it is processed now."""
    kind = CertificateEvent.objects.filter(pk=event_id, processed_at__isnull=True).values_list("kind", flat=True)
    kind = kind.first()
    if kind is None:
        return False
    consumers = consumers_of(kind)
    for consumer in consumers:
        if not _deliver_to(event_id, consumer):
            return False  # another run holds it (it carries on), or it was finished meanwhile
    return _settle(event_id, consumers)


def _deliver_to(event_id: int, consumer: Consumer) -> bool:
    now = timezone.now()
    with transaction.atomic():
        event = _locked(event_id)
        if event is None:
            return False
        delivery = EventDelivery.objects.filter(event=event, consumer=consumer.name).first()
        if delivery is not None and (delivery.delivered_at or (delivery.next_attempt_at or now) > now):
            return True  # had it already, or waits for its retry
        try:
            with transaction.atomic():  # the handler's writes and the receipt: both or neither
                consumer.handler(event)
                _receipt(event, consumer, delivery, delivered_at=timezone.now(), last_error="", next_attempt_at=None)
        except Exception as exc:
            attempts = (delivery.attempts if delivery is not None else 0) + 1
            delay = backoff_seconds(
                attempts, base=settings.CERTMATE_EVENT_RETRY_BASE_SECONDS, cap=settings.CERTMATE_EVENT_RETRY_MAX_SECONDS
            )
            logger.exception(
                "consumer %s failed on event %s (%s, attempt %s); again in %.0f s",
                consumer.name, event.pk, event, attempts, delay,
            )  # fmt: skip
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]
            _receipt(event, consumer, delivery, last_error=error, next_attempt_at=now + timedelta(seconds=delay))
    return True


def _receipt(event: CertificateEvent, consumer: Consumer, delivery: EventDelivery | None, **fields) -> None:
    """Write the consumer's delivery row (one attempt more), under the event's lock."""
    attempts = (delivery.attempts if delivery is not None else 0) + 1
    if delivery is None:
        EventDelivery.objects.create(event=event, consumer=consumer.name, attempts=attempts, **fields)
    else:
        EventDelivery.objects.filter(pk=delivery.pk).update(attempts=attempts, **fields)


def _settle(event_id: int, consumers: list[Consumer]) -> bool:
    """Processed when every consumer has it; else due again when the first waiting retry is."""
    with transaction.atomic():
        event = _locked(event_id)
        if event is None:
            return False
        names = [consumer.name for consumer in consumers]
        deliveries = EventDelivery.objects.filter(event=event, consumer__in=names)
        if deliveries.filter(delivered_at__isnull=False).count() == len(names):
            CertificateEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
            return True
        retry = deliveries.filter(delivered_at__isnull=True).order_by("next_attempt_at").first()
        at = retry.next_attempt_at if retry is not None else timezone.now()
        CertificateEvent.objects.filter(pk=event.pk).update(next_attempt_at=at)
        dispatch_on_commit(EVENTS_TASK, (event.pk,), countdown=(at - timezone.now()).total_seconds())
    return False


def events_sweep_all(*, slugs: list[str] | None = None, now: datetime | None = None) -> list[str]:
    """Beat's pass (every minute): in each active tenant (or those named), run the minute hooks, and
    with events left over past the grace its own task had, send the tenant's processing. Returns those
    tenants' slugs."""
    due_before = (now or timezone.now()) - SWEEP_GRACE
    sent = []
    for tenant in tenants_active(slugs=slugs):
        with tenant_context(tenant):
            minute_hooks_run()  # the other apps' cheap checks (notifications: lost deliveries)
            try:
                if not events_due(now=due_before).exists():
                    continue
            except Exception:  # one tenant's trouble must not keep the others' events waiting
                logger.exception("event sweep of tenant %s failed", tenant.schema_name)
                continue
            dispatch_on_commit(EVENTS_TASK, ())
            sent.append(tenant.schema_name)
    return sent
