"""Shared by the tests of the portal's certificate pages: certificates in bulk, audit events, jobs."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateStatus, CertificateVersion, Job, JobOperation, JobStatus
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR, accounts, certificate_make

_serial = itertools.count(1)


def private_ca(tenant, name: str = "alpha"):
    """The tenant's issuing CA ``name`` (an EC P-256 intermediate with the default profiles)."""
    with tenant_context(tenant):
        return ca_hierarchy_create(name=name, common_name=f"{name.title()} CA", organization=name.title(),
                                   key_type="ec256", actor=TEST_ACTOR)[1]  # fmt: skip


def private_certificate(tenant, name: str = "alice-laptop", authority=None):
    """A client certificate ``name`` issued at once by the tenant's private CA (made when not given)."""
    authority = authority or private_ca(tenant)
    with tenant_context(tenant):
        request = PrivateRequest(profile=authority.profiles.get(name="client"), name=name,
                                 subject={"common_name": name.title()})  # fmt: skip
        return private_certificate_issue(request, actor=TEST_ACTOR)


def events(tenant, action: str) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def jobs_of(tenant, certificate_pk: int) -> list[Job]:
    with tenant_context(tenant):
        return list(Job.objects.filter(certificate_id=certificate_pk).order_by("id"))


def bulk_certificates(count: int, *, prefix: str = "bulk", ending_in_days=lambda n: 30 + n, **fields) -> list:
    """``count`` served certificates written in bulk (a real version's fields copied, with new
    fingerprints and ends ``ending_in_days(n)`` days away), so that a test can have hundreds quickly.
    Call inside the tenant's schema."""
    ca, dns = accounts()
    model = certificate_make(f"model-{next(_serial)}.example.org").current_version
    now = timezone.now()
    certificates = Certificate.objects.bulk_create(
        Certificate(identifier=f"{prefix}-{n:05d}.example.com", status=CertificateStatus.ACTIVE, ca_account=ca,
                    dns_account=dns, **fields)
        for n in range(count)
    )  # fmt: skip
    values = {field.name: getattr(model, field.name) for field in CertificateVersion._meta.concrete_fields}
    for name in ("id", "certificate"):
        values.pop(name)
    versions = [
        CertificateVersion(
            **{
                **values,
                "certificate": certificate,
                "number": 1,
                "fingerprint_sha256": secrets.token_hex(32),
                "not_after": now + timedelta(days=ending_in_days(n)),
            }
        )
        for n, certificate in enumerate(certificates)
    ]
    CertificateVersion.objects.bulk_create(versions)
    for certificate, version in zip(certificates, versions, strict=True):
        certificate.current_version = version
    Certificate.objects.bulk_update(certificates, ["current_version"])
    Job.objects.bulk_create(
        Job(certificate=certificate, operation=JobOperation.ISSUE, status=JobStatus.SUCCEEDED)
        for certificate in certificates
    )
    return certificates
