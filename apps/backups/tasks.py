"""Thin, tenant-aware tasks: they call one service."""

from celery import shared_task


@shared_task(acks_late=True)
def backup_republish_task() -> None:
    """After a restore: publish every current version the tenant's storage target lacks."""
    from apps.backups.services.republish import backup_republish

    backup_republish()
