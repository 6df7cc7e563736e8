"""Revoking an issued version at its CA (ACME revocation through certbot, signed with the account
that ordered it). The database records it; the version stays readable, marked revoked."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.acme_accounts import acme_account_of, ca_account_ensure_registered
from apps.certificates.acme import runner
from apps.certificates.models import Certificate, CertificateVersion
from apps.certificates.services.requests import CertificateRequestError

logger = logging.getLogger(__name__)
REASONS = runner.REVOCATION_REASONS
_ALREADY = re.compile(r"already revoked", re.IGNORECASE)


def certificate_revoke(
    *,
    certificate: Certificate,
    reason: str = "unspecified",
    version_number: int | None = None,
    revoked_by: User | None = None,
) -> CertificateVersion:
    """Revoke the current version (or version ``version_number``). Safe to repeat: a version already
    revoked, here or at the CA, is answered as it stands. The certificate keeps serving nothing new on
    its own: renew it (force) to replace a revoked current version."""
    if reason not in REASONS:
        raise CertificateRequestError(
            f"revocation reason {reason!r} is unknown: use one of {', '.join(REASONS)}", code="invalid_reason"
        )
    versions = certificate.versions.all()
    version = (
        versions.filter(number=version_number).first()
        if version_number is not None
        else versions.filter(pk=certificate.current_version_id).first()
    )
    if version is None:
        raise CertificateRequestError(f"{certificate.identifier} has no such version to revoke", code="no_version")
    if version.revoked_at:
        return version
    if certificate.ca_account_id is None:
        raise CertificateRequestError(
            f"{certificate.identifier} has no CA account to revoke it with: set one first", code="no_ca"
        )
    account = ca_account_ensure_registered(ca_account_id=certificate.ca_account_id)
    try:
        runner.revoke(
            acme_account_of(account),
            version.certificate_pem,
            reason=reason,
            timeout_seconds=min(300, settings.CERTMATE_CERTBOT_TIMEOUT),
        )
    except runner.CertbotError as exc:
        if not _ALREADY.search(exc.reason + exc.output):
            raise CertificateRequestError(
                f"{certificate.identifier} v{version.number}: the CA refused to revoke it: {exc.reason}",
                code="revocation_failed",
            ) from None
    with transaction.atomic():
        CertificateVersion.objects.filter(pk=version.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revocation_reason=reason
        )
        version.refresh_from_db()
        if version.pk == certificate.current_version_id:
            # Republished, so metadata.json says it is revoked wherever consumers read it.
            from apps.storage.services import publication_republish

            publication_republish(version=version)
    logger.info("%s v%s revoked (%s) by %s", certificate.identifier, version.number, reason, revoked_by)
    return version
