"""Thin, tenant-aware tasks: they take ids and call one service."""

from celery import shared_task

from apps.certificates.services.issuance import certificate_issue


@shared_task(acks_late=True, reject_on_worker_lost=True)
def certificate_issue_task(job_id: int) -> None:
    certificate_issue(job_id=job_id)
