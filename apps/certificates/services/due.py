"""When a certificate is next due for renewal: read by the sweep, moved by every change of a threshold and
by every renewal window its CA suggests (ARI, RFC 9773)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.certificates.models import Certificate, CertificateVersion, TenantSettings


def renew_at_for(*, not_before: datetime, not_after: datetime, renew_before_days: int) -> datetime:
    """When a version is due: ``renew_before_days`` before it expires, but never before half its
    lifetime — so a 31-day certificate with a 30-day threshold renews once, at mid-life, not daily,
    and one whose threshold is as long as its lifetime or longer renews at mid-life too."""
    lifetime = not_after - not_before
    return max(not_after - timedelta(days=renew_before_days), not_before + lifetime / 2)


def window_renew_at(*, start: datetime, end: datetime, now: datetime, seed: str) -> datetime:
    """Where in a CA's suggested window to renew: now once the window has begun (a window moved into the
    past is how a CA asks for renewal at once, before a mass revocation); else a point spread uniformly
    over the window (RFC 9773 asks clients to pick at random), drawn from ``seed`` so that computing it
    again (a threshold change) lands on the same point."""
    if start <= now:
        return now
    fraction = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64
    return start + (end - start) * fraction


def certificate_renew_at(
    certificate: Certificate, version: CertificateVersion, threshold_days: int, *, now: datetime | None = None
) -> datetime:
    """The threshold rule, or earlier where the CA's suggested window (stored for this version by the ARI
    refresh) says so: the earlier of the two, as certbot does, so a CA can ask for an early renewal but a
    window beyond the tenant's threshold (or beyond expiry) never delays one."""
    days = certificate.renew_before_days if certificate.renew_before_days is not None else threshold_days
    due = renew_at_for(not_before=version.not_before, not_after=version.not_after, renew_before_days=days)
    if certificate.ari_window_start is None or certificate.ari_window_end is None:
        return due
    suggested = window_renew_at(
        start=certificate.ari_window_start,
        end=certificate.ari_window_end,
        now=now or timezone.now(),
        seed=f"{certificate.pk}:{version.serial}",
    )
    return min(due, suggested)


# What a new current version leaves behind: the window was its predecessor's. ari_next_check empty: the ARI
# refresh asks for the new version's window on its next run.
ARI_FIELDS = ("ari_window_start", "ari_window_end", "ari_checked_at", "ari_next_check")


def certificate_ari_clear(certificate: Certificate) -> list[str]:
    """Forget the suggested window (a new version becomes current); the fields to save."""
    for name in ARI_FIELDS:
        setattr(certificate, name, None)
    return list(ARI_FIELDS)


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
