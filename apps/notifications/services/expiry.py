"""The expiry scan, run with the renewal sweep in each tenant: current versions crossing the tenant's
warning thresholds (TenantSettings.expiry_warning_days) become ``expiring`` events, expired ones an
``expired`` event, private CAs crossing them ``ca_expiring`` notices. Each (version, threshold) warns
once: when several thresholds are crossed at once (a certificate made late, a sweep that did not run)
the smallest is told and the larger ones are marked done with it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.certificates.models import Certificate, EventKind, TenantSettings
from apps.certificates.pki.models import CaState, CertificateAuthority
from apps.certificates.services.events import event_record
from apps.notifications.kinds import NoticeKind
from apps.notifications.models import ExpiryWarning
from apps.notifications.services.notices import notice_record

EXPIRED = 0  # the threshold recorded when a version's notAfter has passed


def days_left(not_after: datetime, now: datetime) -> int:
    return max(0, math.ceil((not_after - now).total_seconds() / 86400))


def crossed(thresholds: list[int], not_after: datetime, now: datetime) -> list[int]:
    """The thresholds ``not_after`` is within, smallest first; [0] once it has passed."""
    if not_after <= now:
        return [EXPIRED]
    return sorted(t for t in set(thresholds) if not_after - now <= timedelta(days=t))


def _warn_version(certificate_id: int, thresholds: list[int], now: datetime) -> bool:
    """Record the version's newest crossing, once (under the certificate's lock). Whether it warned."""
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("current_version")
            .filter(pk=certificate_id)
            .first()
        )
        version = certificate.current_version if certificate is not None else None
        if version is None or version.revoked_at is not None:
            return False
        due = crossed(thresholds, version.not_after, now)
        done = set(ExpiryWarning.objects.filter(version=version).values_list("threshold_days", flat=True))
        if not due or min(due) in done or EXPIRED in done:
            return False
        # Expired: every threshold is past too.
        marked = set(due) | (set(thresholds) if due == [EXPIRED] else set())
        ExpiryWarning.objects.bulk_create(
            [ExpiryWarning(version=version, threshold_days=t) for t in sorted(marked - done)], ignore_conflicts=True
        )
        detail = {"not_after": version.not_after.isoformat(), "days_left": days_left(version.not_after, now)}
        if due == [EXPIRED]:
            event_record(kind=EventKind.EXPIRED, certificate=certificate, version=version, detail=detail)
        else:
            event_record(
                kind=EventKind.EXPIRING,
                certificate=certificate,
                version=version,
                detail={"threshold": min(due), **detail},
            )
    return True


def _thresholds() -> list[int]:
    return sorted({int(t) for t in TenantSettings.load().expiry_warning_days or [] if t})


def expiry_scan(*, now: datetime | None = None) -> int:
    """Warn about the tenant's current versions that crossed a threshold or expired. How many warned."""
    now = now or timezone.now()
    thresholds = _thresholds()
    horizon = now + timedelta(days=max(thresholds, default=0))
    told_expired = ExpiryWarning.objects.filter(threshold_days=EXPIRED).values("version_id")
    candidates = (
        Certificate.objects.filter(current_version__not_after__lte=horizon, current_version__revoked_at__isnull=True)
        .exclude(current_version__in=told_expired)  # nothing more to say about these, ever
        .order_by("current_version__not_after")
        .values_list("pk", flat=True)
    )
    return sum(_warn_version(certificate_id, thresholds, now) for certificate_id in candidates)


def ca_expiry_scan(*, now: datetime | None = None) -> int:
    """Tell of the tenant's active private CAs that crossed a threshold, once per (CA, serial, threshold)."""
    now = now or timezone.now()
    thresholds = _thresholds()
    if not thresholds:
        return 0
    horizon = now + timedelta(days=max(thresholds))
    told = 0
    authorities = CertificateAuthority.objects.filter(
        state=CaState.ACTIVE, not_after__isnull=False, not_after__lte=horizon
    )
    for authority in authorities:
        due = crossed(thresholds, authority.not_after, now)
        threshold = min(due)
        facts = {
            "threshold": threshold,
            "days_left": days_left(authority.not_after, now),
            "not_after": authority.not_after.isoformat(),
            "serial": authority.serial,
            "ca": authority.pk,
        }
        told += (
            notice_record(
                kind=NoticeKind.CA_EXPIRING,
                key=f"ca_expiring:{authority.pk}:{authority.serial}:{threshold}",
                identifier=authority.name,
                facts=facts,
            )
            is not None
        )
    return told
