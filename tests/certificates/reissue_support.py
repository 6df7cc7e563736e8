"""Bulk reissue tests' helpers: ACME certificates over two CA accounts, and the outcomes of the jobs a
bulk reissue queues (a worker's part, recorded as the worker records it) without a CA. Call them inside
the tenant's schema."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.certificates.models import Certificate, CertificateVersion, Job, JobStatus, ReissueItem
from apps.storage.models import Publication
from apps.storage.services import publication_publish, publication_request
from tests.factories import accounts, certificate_make, issued_version, version_add


def estate() -> dict[str, Certificate]:
    """Three issued certificates: two of CA account "le" (one RSA, with a SAN), one of "otherle"."""
    other_ca, other_dns = accounts("other")
    made = {
        "shop": certificate_make("shop.alpha.test", san_domains=("www.shop.alpha.test",)),
        "api": certificate_make("api.alpha.test", rsa=True, key_type="rsa2048"),
        "mail": issued_version("mail.alpha.test", ca_account=other_ca, dns_account=other_dns).certificate,
    }
    # Their first orders are history, not orders in the CA accounts' current windows.
    Job.objects.update(started_at=timezone.now() - timedelta(days=2))
    return made


def item_of(certificate: Certificate) -> ReissueItem:
    return ReissueItem.objects.select_related("renewal_job", "revocation_job", "old_version", "new_version").get(
        certificate=certificate
    )


def renewal_succeeds(item: ReissueItem) -> CertificateVersion:
    """Its renewal job stored a new version (current now), as the worker does."""
    version = version_add(item.certificate)
    Job.objects.filter(pk=item.renewal_job_id).update(
        status=JobStatus.SUCCEEDED, version=version, started_at=timezone.now(), finished_at=timezone.now()
    )
    return version


def renewal_fails(item: ReissueItem, error: str) -> None:
    Job.objects.filter(pk=item.renewal_job_id).update(
        status=JobStatus.FAILED, error=error, started_at=timezone.now(), finished_at=timezone.now()
    )


def published(version: CertificateVersion) -> Publication:
    """The version stored on the tenant's (local) storage target, as the storage consumer has it done."""
    return publication_publish(publication_id=publication_request(version=version).pk)


def revocation_succeeds(item: ReissueItem) -> None:
    job = Job.objects.get(pk=item.revocation_job_id)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
    CertificateVersion.objects.filter(pk=job.version_id).update(
        revoked_at=timezone.now(), revocation_reason=job.revocation_reason
    )
