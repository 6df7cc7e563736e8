"""Helpers for notification tests through real workers: polling with a deadline, mail told apart by its
event, a channel's finished delivery, and channels made in a tenant's schema (tests/notifications/helpers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from django_tenants.utils import tenant_context

from apps.notifications.kinds import DeliveryStatus
from apps.notifications.models import Delivery, NotificationChannel
from tests.notifications.helpers import email, webhook
from tests.notifications.servers import HttpReceiver, Mail, SmtpServer

T = TypeVar("T")
# Each request of one delivery carries its id, retries too: a receiver drops what it has seen.
DELIVERY_HEADER = "X-Certmate-Delivery"


def until(check: Callable[[], T], what: str, *, worker=None, timeout: float = 60) -> T:
    """``check()``'s first truthy answer; fails with ``what`` (and the worker's log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            log = f"\n{worker.log_text()[-3000:]}" if worker is not None else ""
            raise AssertionError(f"{what} (waited {timeout:.0f} s){log}")
        time.sleep(0.2)
    return found


def mails_of(smtp: SmtpServer, address: str, event: str) -> list[Mail]:
    """Mail to ``address`` telling of ``event`` (the X-Certmate-Event header: issued, expiring, ...)."""
    return [mail for mail in smtp.to(address) if mail.message["X-Certmate-Event"] == event]


def names_time(text: str, when: datetime) -> bool:
    """Whether ``text`` gives ``when`` to the minute (UTC, ISO 8601 or with a space)."""
    when = when.astimezone(UTC)
    return any(f"{when:%Y-%m-%d}{sep}{when:%H:%M}" in text for sep in ("T", " "))


def delivery_done(tenant, channel) -> Delivery | None:
    """The channel's one delivery once it is no longer pending (None before)."""
    with tenant_context(tenant):
        row = Delivery.objects.filter(channel=channel).select_related("channel").first()
    return row if row is not None and row.status != DeliveryStatus.PENDING else None


def email_channel(tenant, address: str, **options) -> NotificationChannel:
    with tenant_context(tenant):
        return email([address], name=f"mail {address}", **options)


def webhook_channel(tenant, receiver: HttpReceiver, **options) -> tuple[NotificationChannel, str]:
    """A webhook channel to ``receiver`` and the signing secret shown once when it is made."""
    with tenant_context(tenant):
        channel, secret = webhook(receiver.url(), name=f"hook {receiver.port}", **options)
    assert secret, "a webhook channel's signing secret is returned when it is made"
    return channel, secret
