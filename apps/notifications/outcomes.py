"""What a test delivery did, in one sentence for the admin, the portal and the command."""

from __future__ import annotations

from django.contrib import messages

from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery, NotificationChannel


def delivery_outcome(channel: NotificationChannel, delivery: Delivery) -> tuple[int, str]:
    """A test delivery's outcome, as a message level and one sentence (the portal's and the admin's)."""
    code = f"HTTP {delivery.response_code}" if delivery.response_code else ""
    if delivery.status == DeliveryStatus.DELIVERED:
        return messages.SUCCESS, f"{channel}: the test notice was delivered{f' ({code})' if code else ''}."
    reason = delivery.error or code or "no reason given"
    retry = " It will be tried again." if delivery.status == DeliveryStatus.PENDING else ""
    return messages.ERROR, f"{channel}: the test notice was not delivered: {reason.rstrip('.')}.{retry}"
