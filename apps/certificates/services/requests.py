"""Asking for a certificate: validate everything, record a job, hand it to a worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.certificates.acme.providers import DnsPluginMissing, get_provider
from apps.certificates.domains import domains_clean
from apps.certificates.models import (
    CaAccount,
    Certificate,
    CertificateKind,
    Challenge,
    DnsAccount,
    Job,
    JobOperation,
    KeyType,
    RenewalSweep,
    TenantSettings,
)
from apps.certificates.selectors import job_open
from apps.certificates.services.acme_options import (
    acme_profile_clean,
    certificate_webroot_clean,
    challenge_clean,
    fallback_clean,
    fallback_set,
)
from apps.certificates.services.auditing import certificate_audit, certificate_settings
from apps.certificates.services.due import certificates_schedule_refresh
from apps.certificates.services.needs_csr import NEEDS_CSR, certificate_needs_csr_mark, renewal_needs_csr
from certmate.actors import Actor
from certmate.audit.services import audit_changes
from certmate.dispatch import dispatch_on_commit


class CertificateRequestError(ValidationError):
    """A request that cannot be turned into an order; the message says what to do."""


def _ca_account(settings: TenantSettings, chosen: CaAccount | None) -> CaAccount:
    account = chosen or settings.default_ca_account or CaAccount.objects.filter(is_default=True).first()
    if account is None:
        raise CertificateRequestError(
            "no CA account given and none is the default: create one or name one", code="no_ca"
        )
    return account


def _dns_account(settings: TenantSettings, chosen: DnsAccount | None) -> DnsAccount:
    account = chosen or settings.default_dns_account
    if account is None:
        defaults = list(DnsAccount.objects.filter(is_default=True)[:2])
        account = defaults[0] if len(defaults) == 1 else None
    if account is None:
        raise CertificateRequestError(
            "no DNS account given and no single default: name the DNS account to validate with", code="no_dns"
        )
    return account


def key_type_check(key_type: str) -> None:
    if key_type not in KeyType.values:
        raise CertificateRequestError(
            f"key type {key_type!r} is unknown: use one of {', '.join(KeyType.values)}", code="invalid_key_type"
        )


def certificate_request(
    *,
    identifier: str,
    san_domains: list[str] | None = None,
    key_type: str | None = None,
    ca_account: CaAccount | None = None,
    dns_account: DnsAccount | None = None,
    auto_renew: bool | None = None,
    renew_before_days: int | None = None,
    challenge: str | None = None,
    webroot: str | None = None,
    acme_profile: str | None = None,
    fallback_ca_accounts: list[CaAccount] | None = None,
    operation: str = JobOperation.ISSUE,
    refuse_issued: bool = False,
    actor: Actor,
) -> Job:
    """Record the certificate as asked for and queue a job for it; safe to repeat: while a job for the
    certificate is queued or running, that job is returned instead of a second one. For a certificate
    that exists, what the request leaves out (names, key type, accounts) stays as it is.

    Records ``certificate.requested`` (what the request set or changed, and the job); joining an open
    job changes nothing and records nothing (the job's own request was recorded). ``refuse_issued``
    (CertMate's create): a certificate issued already is refused with code ``exists`` rather than ordered
    again (each order costs one at the CA); renew or reissue it instead.

    ``challenge`` (dns-01, the default, or http-01: no DNS account needed, no wildcard), ``webroot``
    (http-01 written into a folder rather than answered by certmate), ``acme_profile`` and
    ``fallback_ca_accounts`` (tried in order when the CA account's order fails for a reason another CA
    could fix) are kept likewise when left out."""
    names = domains_clean(identifier, san_domains)
    existing = Certificate.objects.filter(kind=CertificateKind.SERVER, identifier=names[0]).first()
    if existing is not None:
        _refuse_private(existing)
        # Asking again (a retried script, a re-order) keeps what the request leaves out.
        if san_domains is None:
            names = [names[0], *existing.san_domains]
        key_type = key_type or existing.key_type
        ca_account = ca_account or existing.ca_account
        dns_account = dns_account or existing.dns_account
        challenge = challenge or existing.challenge
        webroot = existing.webroot if webroot is None else webroot
        acme_profile = existing.acme_profile if acme_profile is None else acme_profile
    settings = TenantSettings.load()
    ca = _ca_account(settings, ca_account)
    challenge = challenge_clean(challenge or Challenge.DNS_01, names)
    webroot = certificate_webroot_clean(webroot or "", challenge)
    acme_profile = acme_profile_clean(acme_profile or "", ca)
    fallbacks = None if fallback_ca_accounts is None else fallback_clean(fallback_ca_accounts, ca)
    if challenge == Challenge.DNS_01:
        dns = _dns_account(settings, dns_account)
        try:
            get_provider(dns.provider).require_plugin()
        except DnsPluginMissing as exc:
            raise CertificateRequestError(str(exc), code="dns_plugin_missing") from None
    else:
        dns = dns_account  # http-01 validates without DNS; an account named is kept for a later dns-01
    key_type = key_type or settings.default_key_type
    key_type_check(key_type)

    with transaction.atomic():
        certificate, created = Certificate.objects.select_for_update().get_or_create(
            kind=CertificateKind.SERVER,
            identifier=names[0],
            defaults={"auto_renew": settings.auto_renew_default if auto_renew is None else auto_renew},
        )
        _refuse_private(certificate)  # again under the lock: it may have been issued meanwhile
        open_job = job_open(certificate=certificate)
        if open_job is not None:
            _refuse_during_revocation(open_job)
            if certificate.san_domains != names[1:] or certificate.key_type != key_type:
                raise CertificateRequestError(
                    f"job {open_job.pk} for {certificate.identifier} is {open_job.status} with other names or key "
                    "type: wait for it to finish, then ask again",
                    code="job_open",
                )
            return open_job
        if refuse_issued and certificate.current_version_id is not None:
            raise CertificateRequestError(
                f"a certificate for {certificate.identifier} exists already: renew it "
                f"(POST /api/certificates/{certificate.identifier}/renew) or change it and reissue it "
                f"(POST /api/certificates/{certificate.identifier}/reissue)",
                code="exists",
            )
        before = {} if created else certificate_settings(certificate)
        certificate.san_domains = names[1:]
        certificate.key_type = key_type
        certificate.ca_account = ca
        certificate.dns_account = dns
        certificate.challenge = challenge
        certificate.webroot = webroot
        certificate.acme_profile = acme_profile
        if auto_renew is not None:
            certificate.auto_renew = auto_renew
        if renew_before_days is not None:
            certificate.renew_before_days = renew_before_days
        certificate.save()
        if fallbacks is not None:
            fallback_set(certificate, fallbacks)
        if certificate.current_version_id:
            certificates_schedule_refresh(certificates=Certificate.objects.filter(pk=certificate.pk))
        job = job_queue(certificate=certificate, operation=operation, actor=actor)
        changes = {**audit_changes(before, certificate_settings(certificate)), "job": job.pk}
        certificate_audit(actor=actor, action="certificate.requested", certificate=certificate, changes=changes)
        return job


def certificate_renew(
    *,
    certificate: Certificate,
    force: bool = False,
    as_of: datetime | None = None,
    actor: Actor,
    sweep: RenewalSweep | None = None,
    countdown: float = 0,
) -> tuple[Job, bool]:
    """Queue a renewal of ``certificate`` as it stands: (the job, whether it is new). An open job is
    returned instead of a second one. Without ``force`` a certificate not due at ``as_of`` (default:
    now) is refused.

    A new job records ``certificate.renewal_requested`` (forced or not, and the job); joining an open
    job records nothing, like a request that joins one. A certificate its engine cannot renew without
    a new CSR from its holder is refused (code ``needs_csr``) and, when due, marked so (see
    services.needs_csr)."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        open_job = job_open(certificate=certificate)
        if open_job is not None:
            _refuse_during_revocation(open_job)
            return open_job, False
        due = bool(certificate.renew_at and certificate.renew_at <= (as_of or timezone.now()))
        if not force and not due:
            when = f"{certificate.renew_at:%Y-%m-%d %H:%M} UTC" if certificate.renew_at else "after its first issuance"
            raise CertificateRequestError(
                f"{certificate.identifier} is not due for renewal until {when}: use force to renew now", code="not_due"
            )
        needs_csr = renewal_needs_csr(certificate)
        if needs_csr is None:
            job = job_queue(
                certificate=certificate,
                operation=JobOperation.RENEW,
                actor=actor,
                forced=force,
                sweep=sweep,
                countdown=countdown,
            )
            changes = {"forced": force, "job": job.pk}
            certificate_audit(
                actor=actor, action="certificate.renewal_requested", certificate=certificate, changes=changes
            )
            return job, True
        if due:  # marked once; a forced renewal ahead of its time is only refused
            certificate_needs_csr_mark(certificate=certificate, reason=needs_csr, actor=actor)
    raise CertificateRequestError(needs_csr, code=NEEDS_CSR)  # after the commit: the mark stays


ISSUE_TASK = "apps.certificates.tasks.certificate_issue_task"


def _refuse_private(certificate: Certificate) -> None:
    """An ACME order never takes over a name a private CA's certificate holds (it would change engines
    under its versions): that certificate is renewed through its CA, or deleted first."""
    if certificate.is_private:
        raise CertificateRequestError(
            f"{certificate.identifier} is a certificate of the private CA {certificate.authority.name!r}, not an "
            "ACME one: renew it, or delete it before asking an ACME CA for this name",
            code="private_certificate",
        )


def _refuse_during_revocation(open_job: Job) -> None:
    """An order joins an open order; while a revocation runs, it waits for it instead."""
    if open_job.operation == JobOperation.REVOKE:
        raise CertificateRequestError(
            f"job {open_job.pk} is revoking {open_job.certificate.identifier}: order once it has finished",
            code="job_open",
        )


def job_queue(*, certificate: Certificate, operation: str, actor: Actor, countdown: float = 0, **fields) -> Job:
    """Create the job and hand it to a worker once the transaction commits (in this tenant's schema).
    The job names the user who asked (none for the system); the caller records the audit event."""
    job = Job.objects.create(
        certificate=certificate,
        operation=operation,
        requested_by=actor.user if actor.user_id else None,
        queued_at=timezone.now() + timedelta(seconds=countdown),
        **fields,
    )
    job_dispatch(job_id=job.pk, countdown=countdown)
    return job


def job_dispatch(*, job_id: int, countdown: float = 0) -> None:
    """Send the job's task once the transaction commits, from this tenant's schema. A lost send is
    found again: a queued job past its time is picked up by the sweep."""
    dispatch_on_commit(ISSUE_TASK, (job_id,), countdown=countdown)
