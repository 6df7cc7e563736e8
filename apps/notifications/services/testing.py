""" "Send test": a test notice to one channel, sent now, bounded in time, recorded in its delivery log."""

from __future__ import annotations

import uuid

from django.db import transaction

from apps.notifications.kinds import NoticeKind
from apps.notifications.models import Delivery, Notice, NotificationChannel
from apps.notifications.services.channels import channel_audit
from apps.notifications.services.delivery import delivery_attempt, delivery_outcome_record
from certmate.actors import Actor


def channel_test(*, actor: Actor, channel: NotificationChannel) -> Delivery:
    """Send a test notice to ``channel`` now (one attempt, no retry) and return its delivery with the
    outcome. Call it with no transaction open. A failed test does not count towards flagging."""
    with transaction.atomic():
        notice = Notice.objects.create(
            kind=NoticeKind.TEST, key=f"test:{channel.pk}:{uuid.uuid4()}", facts={"requested_by": actor.name}
        )
        delivery = Delivery.objects.create(notice=notice, channel=channel, attempts=1)
    delivery = Delivery.objects.select_related("notice", "channel").get(pk=delivery.pk)
    delivery = delivery_outcome_record(delivery, delivery_attempt(delivery), retries=False)
    changes = {"status": delivery.status, "response_code": delivery.response_code, "error": delivery.error}
    with transaction.atomic():
        channel_audit(actor, "tested", channel, changes)
    return delivery
