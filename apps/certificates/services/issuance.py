"""Issuing: the worker's part. Claims the job, runs certbot, stores the result as a new version."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.accounts.services.acme_accounts import acme_account_of, ca_account_ensure_registered
from apps.certificates.acme import runner
from apps.certificates.acme.providers import DnsPluginMissing, get_provider
from apps.certificates.models import Certificate, CertificateStatus, CertificateVersion, Job, JobStatus
from apps.certificates.parsing import certificate_facts

logger = logging.getLogger(__name__)


class IssuanceError(Exception):
    def __init__(self, reason: str, output: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.output = output


def certificate_issue(*, job_id: int) -> Job | None:
    """Run a queued job. A job another worker already claimed, or that is finished, is left alone."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    job = Job.objects.select_related("certificate__ca_account", "certificate__dns_account").filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    try:
        issued = _obtain(job.certificate)
        _store(job, issued)
    except IssuanceError as exc:
        _fail(job, exc.reason, exc.output)
    except Exception as exc:
        logger.exception("job %s for %s failed unexpectedly", job.pk, job.certificate.identifier)
        _fail(job, f"internal error: {type(exc).__name__}: {exc}", "")
        raise
    job.refresh_from_db()
    return job


def _obtain(certificate: Certificate) -> runner.Issued:
    if certificate.ca_account_id is None or certificate.dns_account_id is None:
        raise IssuanceError(f"{certificate.identifier} has no CA account or no DNS account: set both and retry")
    dns = certificate.dns_account
    try:
        provider = get_provider(dns.provider)
        provider.require_plugin()
        credentials = provider.validate(dns.credentials)
    except ValidationError as exc:
        raise IssuanceError(f"DNS account {dns}: {'; '.join(exc.messages)}") from None
    except DnsPluginMissing as exc:
        raise IssuanceError(str(exc)) from None
    propagation = dns.propagation_seconds

    def dns_setup(folder):
        prepared = provider.prepare(credentials, folder, propagation)
        return prepared.args, prepared.env

    attempts = settings.CERTMATE_ACME_NONCE_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            account = ca_account_ensure_registered(
                ca_account_id=certificate.ca_account_id, timeout_seconds=settings.CERTMATE_CERTBOT_TIMEOUT
            )
            order = runner.Order(
                account=acme_account_of(account),
                domains=certificate.names,
                key_type=certificate.key_type,
                dns_setup=dns_setup,
                secrets=provider.secret_values(credentials),
                timeout_seconds=settings.CERTMATE_CERTBOT_TIMEOUT,
            )
            return runner.obtain(order)
        except runner.CertbotError as exc:
            # A refused anti-replay nonce is the CA's hiccup, not the order's fault: run it again.
            if exc.bad_nonce and attempt < attempts:
                logger.info("bad nonce for %s, attempt %s of %s", certificate.identifier, attempt, attempts)
                continue
            raise IssuanceError(f"{certificate.identifier}: {exc.reason}", exc.output) from None
    raise AssertionError("unreachable")


def _store(job: Job, issued: runner.Issued) -> None:
    facts = certificate_facts(issued.cert_pem)
    certificate = job.certificate
    asked = set(certificate.names)
    if set(facts.san) != asked:
        raise IssuanceError(f"the CA issued {sorted(facts.san)} instead of {sorted(asked)}", issued.output)
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        number = (certificate.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = CertificateVersion.objects.create(
            certificate=certificate,
            number=number,
            certificate_pem=issued.cert_pem,
            chain_pem=issued.chain_pem,
            fullchain_pem=issued.fullchain_pem,
            private_key=issued.key_pem,
            **facts.__dict__,
        )
        certificate.current_version = version
        certificate.status = CertificateStatus.ACTIVE
        certificate.last_error = ""
        certificate.save(update_fields=["current_version", "status", "last_error", "updated_at"])
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.SUCCEEDED, finished_at=timezone.now(), output=issued.output, error="", version=version
        )


def _fail(job: Job, reason: str, output: str) -> None:
    """Record why; the certificate's current version, if it has one, stays current."""
    reason = " ".join(reason.split())
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=reason, output=output
        )
        Certificate.objects.filter(pk=job.certificate_id).update(
            status=CertificateStatus.FAILED, last_error=reason, updated_at=timezone.now()
        )
