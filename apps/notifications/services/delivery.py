"""Sending deliveries: lease one, send it with no transaction open, record how it went.

An attempt that failed in a way worth repeating (5xx, timeout, unreachable) waits with backoff
(CERTMATE_NOTIFY_RETRY_BASE_SECONDS doubling up to CERTMATE_NOTIFY_RETRY_MAX_SECONDS) until
CERTMATE_NOTIFY_MAX_ATTEMPTS; a 4xx, a refused destination or a redirect fails it at once. A channel
whose attempts failed CERTMATE_NOTIFY_FLAG_AFTER times in a row is flagged (its admin sees why); its
deliveries carry on, and one that gets through clears the flag.

A worker that dies mid-send leaves a lease that lapses: the sweep (deliveries_retry_due) sends it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications.kinds import DeliveryStatus
from apps.notifications.messages import message_for
from apps.notifications.models import Delivery, NotificationChannel
from apps.notifications.services.channels import channel_audit
from apps.notifications.services.notices import DELIVER_TASK, notice_still_true
from apps.notifications.transports import Outcome, send
from certmate.actors import Actor
from certmate.backoff import backoff_seconds
from certmate.dispatch import dispatch_on_commit

logger = logging.getLogger(__name__)
SYSTEM = Actor.system("notifications")
SWEEP_GRACE = timedelta(seconds=20)  # left to the task sent when a delivery was made or retried
SWEEP_BATCH = 500


def _lease_seconds() -> float:
    return settings.CERTMATE_NOTIFY_TIMEOUT_SECONDS * 3 + 30


def _leased(delivery_id: int) -> Delivery | None:
    """The pending delivery, leased to this run with one attempt more; None when it is not due, done,
    or another run holds it."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notice", "channel")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .first()
        )
        if delivery is None:
            return None
        if not delivery.channel.enabled or not notice_still_true(delivery.notice):
            why = "the channel is disabled" if not delivery.channel.enabled else "the certificate was renewed since"
            Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SKIPPED, error=why, lease_until=None)
            return None
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(seconds=_lease_seconds())
        Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts, lease_until=delivery.lease_until)
    return delivery


def delivery_attempt(delivery: Delivery) -> Outcome:
    """One attempt, never raising: what the remote end did, or what went wrong here."""
    try:
        return send(delivery, message_for(delivery.notice))
    except Exception as exc:  # a bug here must not leave the delivery leased forever
        logger.exception("delivery %s to channel %s failed", delivery.pk, delivery.channel_id)
        return Outcome(False, None, f"certmate could not send it ({type(exc).__name__})", retry=True)


def _flag(channel: NotificationChannel, error: str, now) -> None:
    channel.flagged_at = now
    changes = {"consecutive_failures": channel.consecutive_failures, "last_error": error}
    channel_audit(SYSTEM, "flagged", channel, changes)


def channel_outcome_record(channel_id: int, outcome: Outcome, *, counts: bool = True) -> None:
    """The channel's health after an attempt: failures in a row, last error, flagged after too many."""
    now = timezone.now()
    channel = NotificationChannel.objects.select_for_update().filter(pk=channel_id).first()
    if channel is None:
        return
    if outcome.delivered:
        channel.consecutive_failures, channel.flagged_at, channel.last_error = 0, None, ""
        channel.last_delivery_at = now
    elif counts:
        channel.consecutive_failures += 1
        channel.last_error = outcome.error
        if channel.flagged_at is None and channel.consecutive_failures >= settings.CERTMATE_NOTIFY_FLAG_AFTER:
            _flag(channel, outcome.error, now)
    else:
        channel.last_error = outcome.error
    channel.save(update_fields=["consecutive_failures", "flagged_at", "last_error", "last_delivery_at"])


def delivery_outcome_record(delivery: Delivery, outcome: Outcome, *, retries: bool = True) -> Delivery:
    """Write what the attempt gave: delivered, failed for good, or pending again after a backoff."""
    now = timezone.now()
    with transaction.atomic():
        fields = {"response_code": outcome.response_code, "error": outcome.error, "lease_until": None}
        if outcome.delivered:
            fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, error="")
        elif retries and outcome.retry and delivery.attempts < settings.CERTMATE_NOTIFY_MAX_ATTEMPTS:
            delay = backoff_seconds(
                delivery.attempts,
                base=settings.CERTMATE_NOTIFY_RETRY_BASE_SECONDS,
                cap=settings.CERTMATE_NOTIFY_RETRY_MAX_SECONDS,
            )
            fields.update(status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay))
            dispatch_on_commit(DELIVER_TASK, (delivery.pk,), countdown=delay)
        else:
            fields.update(status=DeliveryStatus.FAILED)
            if outcome.retry:
                fields["error"] = f"{outcome.error} (gave up after {delivery.attempts} attempts)"[:2000]
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        channel_outcome_record(delivery.channel_id, outcome, counts=retries)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery


def delivery_send(*, delivery_id: int) -> Delivery:
    """Send the delivery if it is due and nobody else holds it; record the outcome. Call it with no
    transaction open: the receiver is the tenant's and may take its time (bounded)."""
    delivery = _leased(delivery_id)
    if delivery is None:
        return Delivery.objects.select_related("notice", "channel").get(pk=delivery_id)
    return delivery_outcome_record(delivery, delivery_attempt(delivery))


def deliveries_retry_due(*, now=None) -> int:
    """Send again the pending deliveries whose time came (past the grace their own task had) or whose
    lease lapsed: lost tasks, dead workers. How many were sent."""
    now = now or timezone.now()
    due = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    ids = list(due)
    for pk in ids:
        dispatch_on_commit(DELIVER_TASK, (pk,))
    return len(ids)
