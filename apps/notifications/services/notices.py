"""Notices: one thing to tell, once (its key), and a delivery for each enabled channel that wants it."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.certificates.models import Certificate, CertificateEvent
from apps.certificates.services.events import detail_bounded
from apps.notifications.kinds import NoticeKind
from apps.notifications.models import Delivery, Notice, NotificationChannel
from certmate.dispatch import dispatch_on_commit

DELIVER_TASK = "apps.notifications.tasks.notification_deliver_task"
# Notices about no certificate of the tenant's: every channel that takes the kind hears them.
UNFILTERED = frozenset({NoticeKind.CA_EXPIRING, NoticeKind.DIGEST, NoticeKind.TEST})
_FACTS = 30
_FACT_LENGTH = 2000


def issuer_name(certificate: Certificate | None) -> str:
    issuer = certificate.issuer if certificate is not None else None
    return getattr(issuer, "name", "") or ""


def channel_wants(channel: NotificationChannel, notice: Notice) -> bool:
    """Whether ``channel`` takes ``notice``: its kind chosen, and the certificate within its filters."""
    if not channel.enabled or notice.kind not in channel.events:
        return False
    if notice.kind in UNFILTERED:
        return True
    if channel.certificate_kinds and notice.certificate_kind not in channel.certificate_kinds:
        return False
    if channel.issuers and (notice.facts or {}).get("issuer", "") not in channel.issuers:
        return False
    name = (notice.identifier or "").lower()
    return not channel.name_patterns or any(fnmatch.fnmatchcase(name, p) for p in channel.name_patterns)


def notice_deliveries_make(notice: Notice, channels: list[NotificationChannel]) -> list[Delivery]:
    deliveries = Delivery.objects.bulk_create([Delivery(notice=notice, channel=channel) for channel in channels])
    for delivery in deliveries:
        dispatch_on_commit(DELIVER_TASK, (delivery.pk,))
    return deliveries


@transaction.atomic
def notice_record(
    *,
    kind: str,
    key: str,
    certificate: Certificate | None = None,
    event: CertificateEvent | None = None,
    identifier: str = "",
    certificate_kind: str = "",
    facts: Mapping[str, Any] | None = None,
) -> Notice | None:
    """Record the notice ``key`` once, with a delivery for each enabled channel that wants it, sent once
    this commits. None when the key was recorded before, or no channel wants it (nothing is kept then:
    a channel made later still hears of it when it happens again, say at the next threshold)."""
    if Notice.objects.filter(key=key).exists():
        return None
    facts = dict(facts or {})
    if certificate is not None:
        facts.setdefault("issuer", issuer_name(certificate))
        identifier = identifier or certificate.identifier
        certificate_kind = certificate_kind or certificate.kind
    notice = Notice(
        kind=kind,
        key=key[:200],
        certificate_id=certificate.pk if certificate is not None else None,
        event=event,
        identifier=identifier[:253],
        certificate_kind=certificate_kind,
        facts=detail_bounded(facts, items=_FACTS, length=_FACT_LENGTH),
    )
    channels = [
        channel
        for channel in NotificationChannel.objects.filter(enabled=True, events__contains=[kind])
        if channel_wants(channel, notice)
    ]
    if not channels:
        return None
    try:
        with transaction.atomic():
            notice.save(force_insert=True)
    except IntegrityError:  # recorded meanwhile by another run
        return None
    notice_deliveries_make(notice, channels)
    return notice


def notice_still_true(notice: Notice) -> bool:
    """Whether an expiry notice still holds: its version is still its certificate's current one (a
    renewed certificate stops its warnings). Other notices always hold."""
    if notice.kind not in (NoticeKind.EXPIRING, NoticeKind.EXPIRED):
        return True
    version_id = (notice.facts or {}).get("version_id")
    if notice.certificate_id is None or version_id is None:
        return notice.certificate_id is not None
    return Certificate.objects.filter(Q(pk=notice.certificate_id) & Q(current_version_id=version_id)).exists()
