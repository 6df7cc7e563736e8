"""When a certificate is next due for renewal: read by the sweep, moved by every change of a threshold."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from apps.certificates.models import Certificate, CertificateVersion, TenantSettings


def renew_at_for(*, not_before: datetime, not_after: datetime, renew_before_days: int) -> datetime:
    """When a version is due: ``renew_before_days`` before it expires, but never before half its
    lifetime — so a 31-day certificate with a 30-day threshold renews once, at mid-life, not daily,
    and one whose threshold is as long as its lifetime or longer renews at mid-life too."""
    lifetime = not_after - not_before
    return max(not_after - timedelta(days=renew_before_days), not_before + lifetime / 2)


def certificate_renew_at(certificate: Certificate, version: CertificateVersion, threshold_days: int) -> datetime:
    days = certificate.renew_before_days if certificate.renew_before_days is not None else threshold_days
    return renew_at_for(not_before=version.not_before, not_after=version.not_after, renew_before_days=days)


def certificates_schedule_refresh(*, certificates: QuerySet[Certificate] | None = None) -> int:
    """Recompute when each certificate is next due (after a threshold changes); returns how many."""
    threshold = TenantSettings.load().renewal_threshold_days
    rows = (certificates if certificates is not None else Certificate.objects.all()).select_related("current_version")
    changed = []
    # A private certificate whose current version was revoked is not renewed by the sweep (pki.revoking).
    rows = rows.filter(current_version__isnull=False).exclude(
        authority__isnull=False, current_version__revoked_at__isnull=False
    )
    for certificate in rows:
        certificate.renew_at = certificate_renew_at(certificate, certificate.current_version, threshold)
        changed.append(certificate)
    Certificate.objects.bulk_update(changed, ["renew_at"], batch_size=500)
    return len(changed)
