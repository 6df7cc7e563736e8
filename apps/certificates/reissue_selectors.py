"""Reads for bulk reissues, shared by the API, the admin and the command: the list with its progress,
one with its items, and what an item waits for or why it failed, in words."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.certificates.models import BulkReissue, ReissueItem, ReissueItemStatus
from apps.certificates.models.reissue import ITEM_FINAL
from certmate.errors import NotFound

S = ReissueItemStatus


def bulk_reissue_list() -> QuerySet[BulkReissue]:
    """Newest first, each with ``items_done`` (its finished items) counted in the same query."""
    return BulkReissue.objects.annotate(items_done=Count("items", filter=Q(items__status__in=ITEM_FINAL)))


def bulk_reissue_get(*, bulk_id: int) -> BulkReissue:
    """The bulk reissue ``bulk_id`` of this tenant; NotFound when there is none."""
    bulk = bulk_reissue_list().filter(pk=bulk_id).first() if 0 < bulk_id < 2**63 else None
    if bulk is None:
        raise NotFound(f"no bulk reissue {bulk_id}")
    return bulk


# What an item's page never needs: the versions' material (the key is decrypted on reading) and certbot's output.
_UNREAD = (
    *(f"{version}__{field}" for version in ("old_version", "new_version")
      for field in ("certificate_pem", "chain_pem", "fullchain_pem", "private_key", "subject")),
    "renewal_job__output",
    "revocation_job__output",
)  # fmt: skip


def with_results(rows: QuerySet[ReissueItem]) -> QuerySet[ReissueItem]:
    """Items with what their results name joined in (certificate, versions, jobs), in one query."""
    related = ("certificate", "old_version", "new_version", "renewal_job", "revocation_job")
    return rows.select_related(*related).defer(*_UNREAD)


def reissue_items(bulk: BulkReissue) -> QuerySet[ReissueItem]:
    """Its items in order, with what their results name."""
    return with_results(bulk.items.all()).order_by("pk")


def item_error(item: ReissueItem) -> str:
    """Why a failed item failed; nothing for the others."""
    return item.error if item.status == S.FAILED else ""


def item_progress(item: ReissueItem) -> str:
    """What an open item waits for (its order window, its job, its publication), in one line."""
    if item.status in ITEM_FINAL:
        return ""
    job = {S.RENEWING: item.renewal_job, S.REVOKING: item.revocation_job}.get(item.status)
    if job is not None:
        what = "renewal" if item.status == S.RENEWING else "revocation"
        return job.progress or job.error or f"{what} job {job.pk} {job.status}"
    if item.error:
        return item.error
    return "waiting for its turn to be ordered" if item.status == S.PENDING else "waiting for storage to publish it"
