"""Reads for certificates, their versions and jobs (the current tenant's schema)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import CharField, F, Func, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from apps.certificates.domains import domain_clean
from apps.certificates.models import (
    Certificate,
    CertificateFallback,
    CertificateKind,
    CertificateVersion,
    Job,
    JobStatus,
)
from apps.certificates.pki.names import IDENTIFIER
from certmate.errors import NotFound

OPEN_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
# What a listing never shows: the material and the accounts' secrets (decrypting them per row is the
# slowest part of reading a row).
_NOT_LISTED = (
    "current_version__certificate_pem",
    "current_version__chain_pem",
    "current_version__fullchain_pem",
    "current_version__private_key",
    "current_version__subject",
    "ca_account__eab_hmac_key",
    "ca_account__acme_account",
    "ca_account__trust_bundle",
    "dns_account__credentials",
    "authority__private_key",
    "authority__certificate_pem",
    "authority__chain_pem",
    "authority__csr_pem",
)


def certificate_list(
    *,
    kind: str | None = None,
    status: str | None = None,
    expiring_within_days: int | None = None,
    search: str | None = None,
) -> QuerySet[Certificate]:
    """The tenant's certificates with what a listing shows joined in (one query), in a stable order."""
    # The issuer fallback chain by account names, in the same query.
    fallbacks = CertificateFallback.objects.filter(certificate=OuterRef("pk")).order_by("position")
    rows = (
        Certificate.objects.select_related("current_version", "ca_account", "dns_account", "authority", "profile")
        .defer(*_NOT_LISTED)
        .annotate(fallback_account_names=ArraySubquery(fallbacks.values("ca_account__name")))
    )
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    if expiring_within_days is not None:
        rows = rows.filter(current_version__not_after__lte=timezone.now() + timedelta(days=expiring_within_days))
    if search:
        # A name contained in the identifier or in any SAN, case-insensitively.
        sans = Func(F("san_domains"), Value(" "), function="array_to_string", output_field=CharField())
        rows = rows.alias(sans_text=sans).filter(Q(identifier__icontains=search) | Q(sans_text__icontains=search))
    return rows.order_by("identifier", "kind", "pk")


def certificate_get(*, domain: str, kind: str | None = None) -> Certificate:
    """The certificate named ``domain``: a domain (validated and normalised to a lowercase A-label), or a
    private certificate's name as it was given (``alice-laptop``, ``alice@example.com``). A client and a
    server certificate may share a name: ``kind`` picks one, else the server one wins. NotFound when this
    tenant has none; ValidationError (the domain's) when none is found and the value is not a domain."""
    exact = domain if isinstance(domain, str) and IDENTIFIER.fullmatch(domain) else None
    try:
        normalised, invalid = domain_clean(domain), None
    except ValidationError as exc:
        if exact is None:
            raise
        normalised, invalid = None, exc
    forms = [form for form in dict.fromkeys((exact, normalised)) if form is not None]
    kinds = [kind] if kind else [CertificateKind.SERVER, CertificateKind.CLIENT]
    found = list(certificate_list().filter(identifier__in=forms, kind__in=kinds))
    if found:
        return min(found, key=lambda row: (kinds.index(row.kind), forms.index(row.identifier)))
    if invalid is not None:
        raise invalid  # neither a domain nor the name of a certificate here
    raise NotFound(f"no certificate for {normalised}")


MAX_CLIENT_IDENTIFIER = 253


def client_certificate_get(*, identifier: str) -> Certificate:
    """The client certificate named ``identifier`` (a name, e-mail, device id: looked up exactly);
    NotFound when this tenant has none."""
    found = None
    if isinstance(identifier, str) and 0 < len(identifier) <= MAX_CLIENT_IDENTIFIER:
        found = certificate_list(kind=CertificateKind.CLIENT).filter(identifier=identifier).first()
    if found is None:
        raise NotFound(f"no client certificate named {identifier[:64]!r}")
    return found


def certificate_version(*, certificate: Certificate, number: int | None = None) -> CertificateVersion:
    """The version numbered ``number``, or the current one, with its material; NotFound when there is none."""
    # Read again whole: the certificate's own current_version was read without its material.
    if number is not None:
        version = certificate.versions.filter(number=number).first()
    elif certificate.current_version_id is not None:
        version = certificate.versions.filter(pk=certificate.current_version_id).first()
    else:
        version = None
    if version is None:
        raise NotFound(f"{certificate.identifier} has no version {number or 'issued yet'}")
    version.certificate = certificate  # already at hand: no query to read it back
    return version


def version_list(*, certificate: Certificate) -> QuerySet[CertificateVersion]:
    """Newest first. The material (PEMs, the encrypted key) is left out: a listing never needs it."""
    return certificate.versions.defer("certificate_pem", "chain_pem", "fullchain_pem", "private_key").order_by(
        "-number"
    )


def job_list(*, status: str | None = None, operation: str | None = None, domain: str | None = None) -> QuerySet[Job]:
    rows = Job.objects.select_related("certificate", "version").defer("output")
    if status:
        rows = rows.filter(status=status)
    if operation:
        rows = rows.filter(operation=operation)
    if domain:
        rows = rows.filter(certificate__identifier=domain_clean(domain))
    return rows.order_by("-created_at", "-pk")


def job_get(*, job_id: int) -> Job:
    """The job numbered ``job_id``; NotFound when this tenant has none."""
    job = Job.objects.select_related("certificate", "version").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def job_open(*, certificate: Certificate) -> Job | None:
    return certificate.jobs.filter(status__in=OPEN_JOB_STATUSES).first()


def job_wait(*, job_id: int, timeout_seconds: float, poll_seconds: float = 0.5) -> Job:
    """The job once a worker has finished it, or as it stands when ``timeout_seconds`` have passed.
    Each poll is its own query, so this must not run inside a transaction (it would see no change)."""
    deadline = time.monotonic() + timeout_seconds
    job = job_get(job_id=job_id)
    while job.status in OPEN_JOB_STATUSES and time.monotonic() < deadline:
        time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))
        job = job_get(job_id=job_id)
    return job
