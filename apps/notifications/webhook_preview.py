"""What a webhook channel would be sent for a sample notice: method, URL (its hint: certmate never shows a
target), headers (the signature masked) and the body exactly as it goes out. Nothing is sent or saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.notifications.messages import message_for
from apps.notifications.models import Delivery, Notice, NotificationChannel
from apps.notifications.webhook_payload import signed_request

SAMPLE_NAME = "example.com"
SIGNATURE = "X-Certmate-Signature"


def webhook_preview(*, channel: NotificationChannel | None, kind: str) -> dict[str, Any]:
    now = timezone.now()
    not_after = now + timedelta(days=29)
    notice = Notice(
        kind=kind,
        key="preview",
        identifier=SAMPLE_NAME,
        certificate_kind="server",
        facts={"days_left": 29, "not_after": not_after.isoformat(), "reason": "a sample reason"},
        created_at=now,
    )
    delivery = Delivery(notice=notice, channel=channel)
    body, headers = signed_request(delivery, message_for(notice), "preview")
    headers[SIGNATURE] = "v1=<hex HMAC-SHA256 of the channel's secret over '<timestamp>.<body>'>"
    return {
        "method": "POST",
        "url": channel.target_hint if channel is not None else "",
        "headers": headers,
        "body": body.decode(),
    }
