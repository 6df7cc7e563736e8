"""Issuing and renewing: the worker's part. Claims the job under a lease, has the certificate's engine
obtain it, stores the result as a new version; retries what is worth retrying, and never touches the
live version on failure."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.certificates import untrusted
from apps.certificates.engines import EngineError, engine_for
from apps.certificates.issued import Issued
from apps.certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateVersion,
    EventKind,
    Job,
    JobOperation,
    JobStatus,
    TenantSettings,
)
from apps.certificates.parsing import certificate_facts
from apps.certificates.services.due import certificate_ari_clear, certificate_renew_at
from apps.certificates.services.events import event_record
from apps.certificates.services.leases import (
    JobAbandoned,
    JobAttemptError,
    job_attempt,
    job_finish_failed,
    job_lease_extend,
)
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record
from certmate.backoff import backoff_seconds

logger = logging.getLogger(__name__)
WORKER = Actor.system("worker")


class IssuanceError(JobAttemptError):
    pass


def certificate_issue(*, job_id: int) -> Job | None:
    """Run a queued issuance or renewal. A job another worker holds, or that is finished, is left alone;
    a job over its issuer's order limit waits and is sent again later."""
    job = Job.objects.select_related("certificate").filter(pk=job_id).first()
    return job_attempt(job, lambda claimed: _store(claimed, _obtain(claimed)), fail=_fail_for_good)


def _obtain(job: Job) -> Issued:
    """The new version's material, from the engine that serves the certificate's issuer."""
    certificate = job.certificate
    engine = engine_for(certificate)
    # ARI: the version this order replaces, as its issuer names it (the engine sends it), kept with the job.
    replaces = engine.order_replaces(certificate)
    if replaces != job.replaces:
        Job.objects.filter(pk=job.pk).update(replaces=replaces)
    try:
        return engine.obtain(certificate, keep_alive=lambda: job_lease_extend(job))
    except EngineError as exc:
        raise IssuanceError.from_engine(exc) from None


def _store(job: Job, issued: Issued) -> None:
    facts = certificate_facts(issued.cert_pem)
    certificate = job.certificate
    asked = engine_for(certificate).expected_names(certificate)
    if set(facts.san) != asked:
        raise IssuanceError(f"the CA issued {sorted(facts.san)} instead of {sorted(asked)}", issued.output)
    with transaction.atomic():
        _store_version(job, certificate, facts, issued)


def _store_version(job: Job, certificate: Certificate, facts, issued: Issued) -> None:
    # Only a job still running stores: one the sweep gave up on (lost lease) must not add a version
    # next to the newer job's.
    if not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(lease_expires_at=None):
        raise JobAbandoned
    version = version_make_current(certificate=certificate, issued=issued, facts=facts, actor=WORKER)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        output=issued.output,
        error="",
        version=version,
        lease_expires_at=None,
    )


def version_make_current(*, certificate: Certificate, issued: Issued, actor: Actor, facts=None) -> CertificateVersion:
    """Store ``issued`` as the certificate's next version and make it current (renewal time, status),
    with its event (issued or renewed: storage publishes it) and audit record. Call inside a transaction."""
    facts = facts or certificate_facts(issued.cert_pem)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    previous = certificate.versions.filter(pk=certificate.current_version_id).values_list("number", flat=True).first()
    number = (certificate.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CertificateVersion.objects.create(
        certificate=certificate,
        number=number,
        certificate_pem=issued.cert_pem,
        chain_pem=issued.chain_pem,
        fullchain_pem=issued.fullchain_pem,
        private_key=issued.key_pem,
        authority_id=certificate.authority_id,
        ca_account_id=issued.ca_account_id,
        ca_account_name=issued.ca_account_name,
        **facts.__dict__,
    )
    certificate.current_version = version
    certificate.status = CertificateStatus.ACTIVE
    certificate.last_error = ""
    ari_fields = certificate_ari_clear(certificate)  # the window was the previous version's
    certificate.renew_at = certificate_renew_at(certificate, version, TenantSettings.load().renewal_threshold_days)
    certificate.save(update_fields=["current_version", "status", "last_error", "renew_at", "updated_at", *ari_fields])
    kind = EventKind.ISSUED if number == 1 else EventKind.RENEWED
    # Which CA account issued it, where it is one (an issuer fallback may have ordered elsewhere).
    issued_by = {"ca_account": issued.ca_account_name} if issued.ca_account_name else {}
    event_record(kind=kind, certificate=certificate, version=version, detail={"serial": version.serial, **issued_by})
    audit_record(
        actor=actor,
        action=f"certificate.{kind.value}",
        object_type="certificate",
        object_id=certificate.pk,
        object_name=certificate.identifier,
        changes={"version": [previous, number], **issued_by},
    )
    return version


def _fail_for_good(job: Job, reason: str, output: str) -> None:
    """Record why, with its event (issue_failed or renewal_failed) and audit record; the certificate's
    current version, if it has one, stays current, and it is not tried again before a growing delay (a
    day, doubling up to a week)."""
    reason = untrusted.one_line(reason)  # for the certificate too; the job's output is cleaned where it is written
    now = timezone.now()
    with transaction.atomic():
        if not job_finish_failed(job, reason, output):
            return  # given up on by the sweep meanwhile: a newer job speaks for the certificate
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("current_version")
            .get(pk=job.certificate_id)
        )
        before = {"status": certificate.status, "last_error": certificate.last_error}
        certificate.status = CertificateStatus.FAILED
        certificate.last_error = reason
        certificate.renew_at = _next_try_after_failure(certificate, now)
        certificate.save(update_fields=["status", "last_error", "renew_at", "updated_at"])
        kind = EventKind.ISSUE_FAILED if job.operation == JobOperation.ISSUE else EventKind.RENEWAL_FAILED
        next_retry = certificate.renew_at.isoformat() if certificate.renew_at and certificate.auto_renew else None
        event_record(
            kind=kind, certificate=certificate, detail={"reason": reason, "job": job.pk, "next_retry": next_retry}
        )
        audit_record(
            actor=WORKER,
            action=f"certificate.{kind.value}",
            object_type="certificate",
            object_id=certificate.pk,
            object_name=certificate.identifier,
            changes=audit_changes(before, {"status": CertificateStatus.FAILED.value, "last_error": reason}),
        )


def _next_try_after_failure(certificate: Certificate, now):
    if certificate.current_version is None:
        return certificate.renew_at
    last_success = certificate.current_version.created_at
    failures = certificate.jobs.filter(status=JobStatus.FAILED, finished_at__gt=last_success).count()
    day = timedelta(days=1).total_seconds()
    delay = timedelta(seconds=backoff_seconds(failures, base=day, cap=7 * day, jitter=False))
    # ...but still in time to try again before the live version expires.
    latest = max(now + timedelta(hours=1), certificate.current_version.not_after - timedelta(days=1))
    return min(now + delay, latest)
