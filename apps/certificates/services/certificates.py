"""Changing and deleting a certificate."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.accounts.models import User
from apps.certificates.models import CaAccount, Certificate, DnsAccount
from apps.certificates.selectors import certificate_list, job_open
from apps.certificates.services.due import certificates_schedule_refresh
from apps.certificates.services.requests import CertificateRequestError, key_type_check
from apps.storage.services import publication_withdraw

logger = logging.getLogger(__name__)

# Marks "leave as it is" in certificate_update, where None is a value (renew_before_days: the tenant's).
UNCHANGED = object()


def _refuse_while_open(certificate: Certificate, what: str) -> None:
    job = job_open(certificate=certificate)
    if job is not None:
        raise CertificateRequestError(
            f"job {job.pk} for {certificate.identifier} is {job.status}: {what} once it has finished", code="job_open"
        )


def certificate_update(
    *,
    certificate: Certificate,
    ca_account: CaAccount | object | None = UNCHANGED,
    dns_account: DnsAccount | object | None = UNCHANGED,
    key_type: str | object = UNCHANGED,
    auto_renew: bool | object = UNCHANGED,
    renew_before_days: int | object | None = UNCHANGED,
    updated_by: User | None = None,
) -> Certificate:
    """Change how the certificate is issued and renewed. What changes the next order (accounts, key
    type) waits for an open job to finish; the renewal date follows the new threshold at once."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).get(pk=certificate.pk)
        issuance = {"ca_account": ca_account, "dns_account": dns_account, "key_type": key_type}
        changes = {name: value for name, value in issuance.items() if value is not UNCHANGED}
        if any(getattr(certificate, name) != value for name, value in changes.items()):
            _refuse_while_open(certificate, "change its accounts or key type")
        if key_type is not UNCHANGED:
            key_type_check(key_type)
        if auto_renew is not UNCHANGED:
            changes["auto_renew"] = auto_renew
        if renew_before_days is not UNCHANGED:
            changes["renew_before_days"] = renew_before_days
        for name, value in changes.items():
            setattr(certificate, name, value)
        certificate.save(update_fields=[*changes, "updated_at"])
        if "renew_before_days" in changes:
            certificates_schedule_refresh(certificates=Certificate.objects.filter(pk=certificate.pk))
    logger.info("certificate %s updated by %s: %s", certificate.identifier, updated_by, ", ".join(changes) or "-")
    return certificate_list().get(pk=certificate.pk)


def certificate_auto_renew_set(
    *, certificate: Certificate, enabled: bool, updated_by: User | None = None
) -> Certificate:
    return certificate_update(certificate=certificate, auto_renew=enabled, updated_by=updated_by)


def certificate_delete(*, certificate: Certificate, deleted_by: User | None = None) -> None:
    """Delete the certificate with its versions and jobs (private-key download records stay, naming
    it). Refused while a job is open: its worker would store a version for a certificate that is gone.
    Its published copies are withdrawn from the storage target once the rows are gone (with retries)."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        _refuse_while_open(certificate, "delete it")
        identifier = certificate.identifier
        kind = certificate.kind
        certificate.delete()
        publication_withdraw(kind=kind, identifier=identifier)
    logger.info("certificate %s deleted by %s", identifier, deleted_by)
