"""Thin, tenant-aware tasks: they take ids and call one service."""

from celery import shared_task

from apps.storage.backends.base import StorageError


@shared_task(acks_late=True)
def publication_publish_task(publication_id: int) -> None:
    from apps.storage.services import publication_publish

    publication_publish(publication_id=publication_id)


@shared_task(acks_late=True, autoretry_for=(StorageError,), retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def storage_withdraw_task(kind: str, identifier: str) -> None:
    from apps.storage.services.publishing import publication_withdraw_now

    publication_withdraw_now(kind=kind, identifier=identifier)
