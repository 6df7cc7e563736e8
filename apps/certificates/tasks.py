"""Thin, tenant-aware tasks: they take ids and call one service."""

from celery import shared_task
from django_tenants.utils import tenant_context

from apps.accounts.selectors import tenants_active
from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.acme.http01 import http_challenges_expire
from apps.certificates.pki.batching import BATCH_TASK, batch_run
from apps.certificates.pki.bulk_revocation import BULK_TASK, bulk_revocation_run
from apps.certificates.pki.crl_refresh import CRL_REFRESH_TASK, crls_refresh
from apps.certificates.pki.ocsp_responders import ocsp_responders_renew
from apps.certificates.services.events import EVENTS_SWEEP_TASK, EVENTS_TASK, events_process, events_sweep_all
from apps.certificates.services.jobs import job_run
from apps.certificates.services.reissue import REISSUE_TASK
from apps.certificates.services.reissue_advance import bulk_reissue_advance
from apps.certificates.services.renewals import renewal_sweep
from apps.certificates.services.requests import ISSUE_TASK
from apps.certificates.services.schedule import ARI_REFRESH_TASK, OCSP_RENEWAL_TASK, SWEEP_TASK


@shared_task(name=ISSUE_TASK, acks_late=True, reject_on_worker_lost=True)
def certificate_issue_task(job_id: int) -> None:
    """Any queued job (issue, renew, revoke); the name stays for messages already queued."""
    job_run(job_id=job_id)


@shared_task(acks_late=True)
def renewal_sweep_task() -> None:
    """Sweep the tenant whose schema this task carries."""
    renewal_sweep()


def _send_to_every_tenant(task) -> None:
    """``task`` queued once per active tenant, from its schema (so the worker runs it there)."""
    for tenant in tenants_active():
        with tenant_context(tenant):
            task.delay()


@shared_task(name=SWEEP_TASK)
def renewal_sweep_all_task() -> None:
    """Beat's entry point (public schema): one sweep task per active tenant, sent from its schema."""
    _send_to_every_tenant(renewal_sweep_task)


@shared_task(name=EVENTS_TASK, acks_late=True)
def events_process_task(event_id: int | None = None) -> None:
    """Deliver one event (sent when it was recorded), or the tenant's due ones (sent by the sweep)."""
    events_process(event_id=event_id)


@shared_task(name=EVENTS_SWEEP_TASK)
def events_sweep_all_task() -> None:
    """Beat's entry point (public schema), every minute: the tenants with events left over process them;
    HTTP-01 challenges past their time (left by a worker that died mid-order) go."""
    events_sweep_all()
    http_challenges_expire()


@shared_task(name=BATCH_TASK, acks_late=True, reject_on_worker_lost=True)
def certificate_batch_task(batch_id: int) -> None:
    """A batch of private certificates: issues the rows still without a result (safe to redeliver)."""
    batch_run(batch_id=batch_id)


@shared_task(acks_late=True)
def crl_refresh_task() -> None:
    """Sign new CRLs where due in the tenant whose schema this task carries."""
    crls_refresh()


@shared_task(name=CRL_REFRESH_TASK)
def crl_refresh_all_task() -> None:
    """Beat's entry point (public schema): one CRL refresh task per active tenant, sent from its schema."""
    _send_to_every_tenant(crl_refresh_task)


@shared_task(name=BULK_TASK, acks_late=True, reject_on_worker_lost=True)
def bulk_revocation_task(bulk_id: int) -> None:
    """A bulk revocation: revokes what it matches that has no result yet (safe to redeliver)."""
    bulk_revocation_run(bulk_id=bulk_id)


@shared_task(name=REISSUE_TASK, acks_late=True, reject_on_worker_lost=True)
def bulk_reissue_task(bulk_id: int) -> None:
    """One pass of a bulk reissue: advances its open items and sends the next pass (safe to redeliver)."""
    bulk_reissue_advance(bulk_id=bulk_id)


@shared_task(acks_late=True)
def ocsp_responders_renew_task() -> None:
    """The OCSP responders of the tenant whose schema this task carries that near their end."""
    ocsp_responders_renew()


@shared_task(name=OCSP_RENEWAL_TASK)
def ocsp_responders_renew_all_task() -> None:
    """Beat's entry point (public schema): one renewal task per active tenant, sent from its schema."""
    _send_to_every_tenant(ocsp_responders_renew_task)


@shared_task(acks_late=True)
def ari_refresh_task() -> None:
    """Ask the CAs for the renewal windows of the due certificates of the tenant this task carries."""
    certificates_ari_refresh()


@shared_task(name=ARI_REFRESH_TASK)
def ari_refresh_all_task() -> None:
    """Beat's entry point (public schema): one ARI refresh task per active tenant, sent from its schema."""
    _send_to_every_tenant(ari_refresh_task)
