"""Reads that sum up a tenant's certificates at a glance (the portal's dashboard; any face may use them):
counts by state, what expires soon, the newest jobs. Each is one query, whatever the number of
certificates; all run in the current tenant's schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.certificates.models import Certificate, CertificateStatus, Job, TenantSettings
from apps.certificates.selectors import OPEN_JOB_STATUSES

# A revoked certificate is one whose current version is revoked: it counts as revoked, nothing else.
_REVOKED = Q(current_version__revoked_at__isnull=False)
_SERVED = Q(current_version__isnull=False) & ~_REVOKED
# What a short list of certificates shows.
_SHORT = ("identifier", "kind", "auto_renew", "status", "current_version")


@dataclass(frozen=True)
class CertificateCounts:
    total: int
    active: int
    expiring: int  # served, not yet expired, expiring within the threshold
    expired: int  # served and past its end
    failed: int
    pending: int
    needs_csr: int
    revoked: int
    threshold_days: int


def renewal_threshold_days() -> int:
    """The tenant's renewal threshold: what "expiring soon" means on its pages."""
    return TenantSettings.load().renewal_threshold_days


def ends_by(moment: datetime) -> Q:
    return Q(current_version__not_after__lte=moment)


def certificate_counts(*, threshold_days: int, now: datetime | None = None) -> CertificateCounts:
    """The certificates by state, in one aggregate query. ``active`` counts served certificates whose
    status is active (expiring ones included); a revoked one counts as revoked only."""
    now = now or timezone.now()
    soon = now + timedelta(days=threshold_days)
    counted = Certificate.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=_SERVED & Q(status=CertificateStatus.ACTIVE)),
        expiring=Count("pk", filter=_SERVED & Q(current_version__not_after__gt=now) & ends_by(soon)),
        expired=Count("pk", filter=_SERVED & ends_by(now)),
        failed=Count("pk", filter=Q(status=CertificateStatus.FAILED) & ~_REVOKED),
        pending=Count("pk", filter=Q(status=CertificateStatus.PENDING) & ~_REVOKED),
        needs_csr=Count("pk", filter=Q(status=CertificateStatus.NEEDS_CSR) & ~_REVOKED),
        revoked=Count("pk", filter=_REVOKED),
    )
    return CertificateCounts(**counted, threshold_days=threshold_days)


# The states a list of certificates filters on, as certificate_counts counts them.
LISTED_STATES = ("active", "pending", "failed", "needs_csr", "revoked")


def certificates_in_state(rows: QuerySet[Certificate], state: str) -> QuerySet[Certificate]:
    """``rows`` narrowed to the certificates certificate_counts counts under ``state`` (a revoked one is
    revoked only; active ones are served)."""
    if state == "revoked":
        return rows.filter(_REVOKED)
    if state == CertificateStatus.ACTIVE:
        return rows.filter(_SERVED, status=state)
    return rows.filter(~_REVOKED, status=state)


def certificates_ending(rows: QuerySet[Certificate], *, within_days: int, now: datetime | None = None):
    """``rows`` narrowed to the served certificates ending within ``within_days`` (expired ones too), as
    the dashboard's "expiring or expired" counts them."""
    return rows.filter(_SERVED, ends_by((now or timezone.now()) + timedelta(days=within_days)))


def certificates_expiring(*, within_days: int, limit: int = 10, now: datetime | None = None) -> list[Certificate]:
    """The served certificates that end within ``within_days`` (expired ones first), soonest first:
    one query reading only what a short list shows (name, kind, auto-renew, end)."""
    until = (now or timezone.now()) + timedelta(days=within_days)
    rows = Certificate.objects.filter(_SERVED, current_version__not_after__lte=until).select_related("current_version")
    rows = rows.only(*_SHORT, "current_version__not_after", "current_version__revoked_at")
    return list(rows.order_by("current_version__not_after", "pk")[:limit])


def jobs_recent(*, limit: int = 8) -> list[Job]:
    """The newest jobs with their certificate's name (one query, without their output or version)."""
    fields = ("operation", "status", "created_at", "started_at", "finished_at", "progress", "error", "certificate")
    rows = Job.objects.select_related("certificate").only(*fields, *(f"certificate__{field}" for field in _SHORT))
    return list(rows.order_by("-created_at", "-pk")[:limit])


def jobs_any_open(jobs: list[Job]) -> bool:
    """Whether any of these jobs is still queued or running (a page showing them keeps polling)."""
    return any(job.status in OPEN_JOB_STATUSES for job in jobs)
