"""The weekly digest (opt-in, e-mail channels): what expires in the coming weeks and what failed, once
per ISO week, from the first sweep of the week that finds a channel subscribed to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.certificates.models import Certificate, CertificateStatus
from apps.notifications.kinds import DeliveryStatus, NoticeKind
from apps.notifications.models import Delivery, Notice, NotificationChannel
from apps.notifications.services.notices import notice_record
from certmate.actors import Actor
from certmate.audit.services import audit_record

HORIZON_DAYS = 30
LISTED = 25  # certificates named per section; the rest are counted


def digest_key(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"digest:{year}-W{week:02d}"


def _section(title: str, lines: list[str], total: int) -> str:
    if not total:
        return f"{title}: none."
    more = f"\n  … and {total - len(lines)} more" if total > len(lines) else ""
    return f"{title} ({total}):\n" + "\n".join(f"  - {line}" for line in lines) + more


def digest_summary(now: datetime) -> dict:
    expiring = Certificate.objects.filter(current_version__not_after__lte=now + timedelta(days=HORIZON_DAYS))
    expiring = expiring.select_related("current_version").order_by("current_version__not_after")
    failed = Certificate.objects.filter(status=CertificateStatus.FAILED).order_by("identifier")
    undelivered = Delivery.objects.filter(status=DeliveryStatus.FAILED, created_at__gte=now - timedelta(days=7))
    expiring_lines = [
        f"{c.identifier}: {'expired' if c.current_version.not_after <= now else 'expires'} "
        f"{c.current_version.not_after:%Y-%m-%d}"
        for c in expiring[:LISTED]
    ]
    failed_lines = [f"{c.identifier}: {c.last_error[:200] or 'failed'}" for c in failed[:LISTED]]
    counts = {
        "expiring_count": expiring.count(),
        "failed_count": failed.count(),
        "undelivered_count": undelivered.count(),
    }
    summary = "\n\n".join(
        [
            _section(f"Expiring within {HORIZON_DAYS} days", expiring_lines, counts["expiring_count"]),
            _section("Failed (issuance or renewal)", failed_lines, counts["failed_count"]),
            f"Notifications that could not be delivered this week: {counts['undelivered_count']}.",
        ]
    )
    return {**counts, "summary": summary}


def digest_send(*, now: datetime | None = None) -> Notice | None:
    """This week's digest, if some enabled channel takes it and it was not sent yet."""
    now = now or timezone.now()
    key = digest_key(now)
    if Notice.objects.filter(key=key).exists():
        return None
    if not NotificationChannel.objects.filter(enabled=True, events__contains=[NoticeKind.DIGEST]).exists():
        return None
    return notice_record(kind=NoticeKind.DIGEST, key=key, facts=digest_summary(now))


def digest_request(*, actor: Actor) -> tuple[Notice | None, str]:
    """This week's digest now, at an admin's request (instead of at the week's first sweep): the notice,
    or None and why not (sent already this week, or no enabled channel takes it)."""
    now = timezone.now()
    with transaction.atomic():
        if Notice.objects.filter(key=digest_key(now)).exists():
            return None, "this week's digest was sent already: the next one goes out next week"
        notice = digest_send(now=now)
        if notice is None:
            return None, "no enabled channel subscribes to the weekly digest (event 'digest', e-mail channels)"
        audit_record(actor=actor, action="notification_digest.requested", object_type="notification_digest",
                     object_name=notice.key, changes={"deliveries": notice.deliveries.count()})  # fmt: skip
    return notice, ""
