"""Reads for notifications: channels, their delivery log, the notices told."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.notifications.models import Delivery, Notice, NotificationChannel
from certmate.errors import NotFound


def channels_list() -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.order_by("name")


def channel_get(*, pk: int) -> NotificationChannel:
    channel = NotificationChannel.objects.filter(pk=pk).first()
    if channel is None:
        raise NotFound(f"notification channel {pk} does not exist here")
    return channel


def deliveries_list(
    *, channel: NotificationChannel | None = None, status: str | None = None, kind: str | None = None
) -> QuerySet[Delivery]:
    """The delivery log, newest first: each delivery with its notice and channel."""
    deliveries = Delivery.objects.select_related("notice", "channel").order_by("-created_at", "-id")
    if channel is not None:
        deliveries = deliveries.filter(channel=channel)
    if status:
        deliveries = deliveries.filter(status=status)
    if kind:
        deliveries = deliveries.filter(notice__kind=kind)
    return deliveries


def notices_list() -> QuerySet[Notice]:
    return Notice.objects.order_by("-created_at", "-id")
