"""Notifications follow certificate events and join the periodic sweep (expiry, digest, lost deliveries).

Each event of a kind a channel can hear about becomes a notice (key ``event:<id>``, so an event
delivered twice tells once); its deliveries are sent once the event's delivery commits."""

from __future__ import annotations

from apps.certificates.events import consumer_register, minute_hook_register, sweep_hook_register
from apps.certificates.models import Certificate, CertificateEvent, EventKind
from apps.notifications.services import (
    ca_expiry_scan,
    deliveries_retry_due,
    digest_send,
    expiry_scan,
    notice_record,
)

CONSUMER = "notifications"
KINDS = (
    EventKind.ISSUED,
    EventKind.RENEWED,
    EventKind.ISSUE_FAILED,
    EventKind.RENEWAL_FAILED,
    EventKind.REVOKED,
    EventKind.PUBLICATION_FAILED,
    EventKind.EXPIRING,
    EventKind.EXPIRED,
    EventKind.KEY_DOWNLOADED,
)


def notifications_event_handle(event: CertificateEvent) -> None:
    certificate = Certificate.objects.filter(pk=event.certificate_id).first() if event.certificate_id else None
    facts = {**(event.detail or {}), "version_id": event.version_id, "version": event.version_number}
    notice_record(
        kind=event.kind,
        key=f"event:{event.pk}",
        certificate=certificate,
        event=event,
        identifier=event.identifier,
        certificate_kind=event.certificate_kind,
        facts=facts,
    )


def register() -> None:
    """Called from the notifications app's ready()."""
    consumer_register(CONSUMER, kinds=KINDS, handler=notifications_event_handle)
    sweep_hook_register("notifications: expiry", expiry_scan)
    sweep_hook_register("notifications: CA expiry", ca_expiry_scan)
    sweep_hook_register("notifications: weekly digest", digest_send)
    sweep_hook_register("notifications: lost deliveries", deliveries_retry_due)
    minute_hook_register("notifications: lost deliveries", deliveries_retry_due)
