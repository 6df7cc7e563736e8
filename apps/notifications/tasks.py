"""Thin, tenant-aware tasks: they take ids and call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def notification_deliver_task(delivery_id: int) -> None:
    from apps.notifications.services import delivery_send

    delivery_send(delivery_id=delivery_id)
