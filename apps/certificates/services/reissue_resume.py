"""The safety net of bulk reissues: beat's event sweep (every minute) sends a pass again for a bulk
reissue whose task was lost with a worker or a broker. A pass that sends the next one marks the open
items it looked at (at most once per HEARTBEAT): open items nobody looked at for LOST_AFTER mean no
pass is coming."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from apps.certificates.models import BulkReissue, ReissueItem, ReissueItemStatus
from apps.certificates.services.reissue import REISSUE_TASK
from certmate.dispatch import dispatch_on_commit

S = ReissueItemStatus
OPEN = (S.PENDING, S.RENEWING, S.PUBLISHING, S.REVOKING)
HEARTBEAT = timedelta(seconds=60)
LOST_AFTER = timedelta(minutes=5)


def bulk_reissues_resume(*, now: datetime | None = None) -> int:
    """Send a pass again for each open bulk reissue whose open items no pass looked at for LOST_AFTER
    (none at all: a pass died before it could finish it). Marks them looked at, so a worker that is down
    gets one message per LOST_AFTER, not one a minute."""
    now = now or timezone.now()
    cutoff = now - LOST_AFTER
    lost = BulkReissue.objects.filter(finished_at__isnull=True, created_at__lt=cutoff).annotate(
        last=Max("items__updated_at", filter=Q(items__status__in=OPEN))
    )
    ids = list(lost.filter(Q(last__lt=cutoff) | Q(last__isnull=True)).values_list("pk", flat=True))
    for bulk_id in ids:
        ReissueItem.objects.filter(bulk_id=bulk_id, status__in=OPEN).update(updated_at=now)
        dispatch_on_commit(REISSUE_TASK, (bulk_id,))
    return len(ids)
