"""Channels and events for notification tests (call inside the tenant's schema)."""

from __future__ import annotations

from apps.certificates.models import Certificate, EventKind
from apps.certificates.services.events import event_record
from apps.notifications.models import Delivery, NotificationChannel
from apps.notifications.services import channel_create
from tests.factories import TEST_ACTOR, certificate_make


def webhook(url: str, name: str = "hook", **options) -> tuple[NotificationChannel, str]:
    channel, secret = channel_create(actor=TEST_ACTOR, name=name, kind="webhook", target=url, **options)
    return channel, secret


def apprise(url: str, name: str = "chat", **options) -> NotificationChannel:
    return channel_create(actor=TEST_ACTOR, name=name, kind="apprise", target=url, **options)[0]


def email(recipients: list[str], name: str = "mail", **options) -> NotificationChannel:
    return channel_create(actor=TEST_ACTOR, name=name, kind="email", recipients=recipients, **options)[0]


def happened(certificate: Certificate, kind: str = EventKind.RENEWED, **detail) -> None:
    """Record ``kind`` for the certificate's current version (its delivery runs on commit)."""
    event_record(kind=kind, certificate=certificate, version=certificate.current_version, detail=detail)


def deliveries(channel: NotificationChannel) -> list[Delivery]:
    return list(Delivery.objects.filter(channel=channel).select_related("notice").order_by("id"))


def hooked(eager, identifier: str, url: str, **options) -> tuple[Certificate, NotificationChannel, str]:
    """A certificate (its own events told before the channel exists) and a webhook channel to ``url``."""
    with eager():
        certificate = certificate_make(identifier)
    channel, secret = webhook(url, **options)
    return certificate, channel, secret


def told(eager, certificate: Certificate, kind: str = EventKind.RENEWED, **detail) -> None:
    """``kind`` happens to the certificate, and everything it causes runs."""
    with eager():
        happened(certificate, kind, **detail)
