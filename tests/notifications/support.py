"""Helpers of the notification face tests: channels made through the services, a channel flagged the
way the sender leaves it, and who wrote the audit log."""

from __future__ import annotations

from django.utils import timezone

from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_create
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR


def email_channel(name: str = "ops", **options) -> NotificationChannel:
    channel, _ = channel_create(actor=TEST_ACTOR, name=name, kind="email", recipients=["ops@example.com"], **options)
    return channel


def webhook_channel(url: str, name: str = "hook", **options) -> tuple[NotificationChannel, str]:
    return channel_create(actor=TEST_ACTOR, name=name, kind="webhook", target=url, **options)


def flag(channel: NotificationChannel, error: str = "HTTP 500 from hooks.example.com") -> None:
    """As the sender leaves a channel that failed again and again."""
    NotificationChannel.objects.filter(pk=channel.pk).update(
        flagged_at=timezone.now(), consecutive_failures=5, last_error=error
    )


def audited(channel: str, name: str) -> list[str]:
    """The audit log's actions about the object named ``name`` through ``channel`` (api, admin, portal...)."""
    return list(AuditEvent.objects.filter(channel=channel, object_name=name).values_list("action", flat=True))
