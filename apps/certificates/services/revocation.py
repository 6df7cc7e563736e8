"""Revoking an issued version at its issuer (through the engine that serves it: for ACME, signed with the
account that ordered it), as a job: asked for here, run by a worker like an issuance. The database
records it; the version stays readable, marked revoked."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.certificates.engines import EngineError, engine_for
from apps.certificates.models import Certificate, CertificateVersion, EventKind, Job, JobOperation, JobStatus
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.selectors import job_open
from apps.certificates.services.auditing import certificate_audit
from apps.certificates.services.events import event_record
from apps.certificates.services.leases import (
    JobAbandoned,
    JobAttemptError,
    job_attempt,
    job_finish_failed,
    job_lease_extend,
)
from apps.certificates.services.requests import CertificateRequestError, job_queue
from certmate.actors import Actor
from certmate.audit.services import audit_record

logger = logging.getLogger(__name__)
HOLD = "certificatehold"  # a reversible revocation: only an engine that revokes at once takes it


def certificate_revoke(
    *,
    certificate: Certificate,
    reason: str = "unspecified",
    version_number: int | None = None,
    actor: Actor,
    invalidity_date: datetime | None = None,
) -> Job:
    """Ask for the current version (or version ``version_number``) to be revoked: the job that does it.
    Safe to repeat: an open revocation of that version is answered (its first reason stands), and so is
    the finished one of a version already revoked. Refused (job_open) while the certificate has another
    job open. The certificate serves nothing new on its own: renew it (force) to replace a revoked
    current version.

    A new job records ``certificate.revocation_requested`` (reason, version, job); answering an open or
    finished revocation records nothing.

    An engine that revokes at once (the private CA: certmate is the CA) does it here, whatever job is
    open, and answers a finished job; it also takes certificatehold and an ``invalidity_date``."""
    if reason not in (*REVOCATION_REASONS, HOLD):
        raise CertificateRequestError(
            f"revocation reason {reason!r} is unknown: use one of {', '.join(REVOCATION_REASONS)} "
            f"({HOLD} for a private CA's certificate)",
            code="invalid_reason",
        )
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).get(pk=certificate.pk)
        versions = certificate.versions.all()
        version = (
            versions.filter(number=version_number).first()
            if version_number is not None
            else versions.filter(pk=certificate.current_version_id).first()
        )
        if version is None:
            raise CertificateRequestError(f"{certificate.identifier} has no such version to revoke", code="no_version")
        engine = engine_for(certificate)
        before = (version.revoked_at, version.revocation_reason, version.invalidity_date)
        revoked = engine.revoke_at_once(
            certificate, version, reason=reason, actor=actor, invalidity_date=invalidity_date
        )
        if revoked is not None:
            changed = before != (revoked.revoked_at, revoked.revocation_reason, revoked.invalidity_date)
            return _revoked_at_once(revoked, actor) if changed else _revocation_of(revoked, actor)
        if reason == HOLD or invalidity_date is not None:
            raise CertificateRequestError(
                f"{certificate.identifier} is revoked through its ACME CA, which takes neither a hold nor an "
                "invalidity date",
                code="invalid_reason",
            )
        open_job = job_open(certificate=certificate)
        if open_job is not None:
            if open_job.operation == JobOperation.REVOKE and open_job.version_id == version.pk:
                return open_job
            raise CertificateRequestError(
                f"job {open_job.pk} for {certificate.identifier} is {open_job.status}: revoke once it has finished",
                code="job_open",
            )
        if version.revoked_at:
            return _revocation_of(version, actor)
        try:
            engine.check(certificate, revoking=True)
        except EngineError as exc:
            raise CertificateRequestError(exc.reason, code=exc.code) from None
        job = job_queue(
            certificate=certificate,
            operation=JobOperation.REVOKE,
            actor=actor,
            version=version,
            revocation_reason=reason,
        )
        changes = {"reason": reason, "version": version.number, "job": job.pk}
        certificate_audit(
            actor=actor, action="certificate.revocation_requested", certificate=certificate, changes=changes
        )
        return job


def _revoked_at_once(version: CertificateVersion, actor: Actor) -> Job:
    """The finished job of a revocation its engine just recorded (bookkeeping: the engine audited it)."""
    now = timezone.now()
    return _finished(version, actor, finished_at=now, queued_at=now, started_at=now, attempts=1)


def _finished(version: CertificateVersion, actor: Actor, **fields) -> Job:
    return Job.objects.create(
        certificate=version.certificate,
        operation=JobOperation.REVOKE,
        status=JobStatus.SUCCEEDED,
        version=version,
        revocation_reason=version.revocation_reason,
        requested_by=actor.user if actor.user_id else None,
        **fields,
    )


def _revocation_of(version: CertificateVersion, actor: Actor) -> Job:
    """The finished job that revoked ``version``; one is recorded for a version revoked before
    revocations were jobs (bookkeeping of a past revocation, not a new request: no audit event)."""
    done = Job.objects.filter(operation=JobOperation.REVOKE, version=version, status=JobStatus.SUCCEEDED)
    earlier = done.order_by("-finished_at").first()
    if earlier is not None:
        return earlier
    return _finished(version, actor, finished_at=version.revoked_at)


def revocation_run(*, job_id: int) -> Job | None:
    """The worker's part: revoke the job's version at the CA, then record it. A job another worker
    holds, or that is finished, is left alone; a CA that does not answer is retried with backoff."""
    job = Job.objects.select_related("certificate", "version").filter(pk=job_id).first()
    return job_attempt(job, lambda claimed: _record_revoked(claimed, _revoke_at_ca(claimed)), fail=_fail)


def _revoke_at_ca(job: Job) -> str:
    certificate, version = job.certificate, job.version
    if version is None:
        raise JobAttemptError(f"{certificate.identifier}: the version to revoke was deleted")
    if version.revoked_at:
        return ""
    engine = engine_for(certificate)
    try:
        return engine.revoke(
            certificate, version, reason=job.revocation_reason, keep_alive=lambda: job_lease_extend(job)
        )
    except EngineError as exc:
        raise JobAttemptError.from_engine(exc) from None


def _record_revoked(job: Job, output: str) -> None:
    version = job.version
    with transaction.atomic():
        if not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.SUCCEEDED, finished_at=timezone.now(), output=output, error="", lease_expires_at=None
        ):
            raise JobAbandoned
        if CertificateVersion.objects.filter(pk=version.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revocation_reason=job.revocation_reason
        ):
            _revoked(job.certificate, CertificateVersion.objects.get(pk=version.pk))
    logger.info("%s revoked (%s), job %s", version, job.revocation_reason, job.pk)


def _revoked(certificate: Certificate, version: CertificateVersion) -> None:
    """The event (storage publishes the current version again, so metadata.json says it is revoked
    wherever consumers read it) and the audit record of a revocation just stored."""
    detail = {"reason": version.revocation_reason, "serial": version.serial}
    event_record(kind=EventKind.REVOKED, certificate=certificate, version=version, detail=detail)
    audit_record(
        actor=Actor.system("worker"),
        action="certificate.revoked",
        object_type="certificate",
        object_id=certificate.pk,
        object_name=certificate.identifier,
        changes={"revoked_version": [None, version.number], "revocation_reason": ["", version.revocation_reason]},
    )


def _fail(job: Job, reason: str, output: str) -> None:
    """Recorded on the job only: a refused revocation changes nothing about the certificate."""
    job_finish_failed(job, reason, output)
