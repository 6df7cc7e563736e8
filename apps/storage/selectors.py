"""Reads for storage."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from apps.certificates.models import CertificateVersion
from apps.certificates.publication import Publication as Live
from apps.storage.models import Publication, PublicationState, StorageConfig


def publication_counts(*, target: StorageConfig) -> dict[str, int]:
    """The target's publications by state, every state named (one query)."""
    counted = dict(target.publications.values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counted.get(state, 0) for state in PublicationState.values}


@dataclass(frozen=True)
class PublicationProblems:
    """What keeps certificates from the active storage target: publications given up on (``failed``:
    `storage resync` tries again) or failing and retried (``retrying``), the newest of them, and the
    target's last failed connection test."""

    target: StorageConfig | None
    failed: int
    retrying: int
    newest: list[Publication]

    @property
    def any(self) -> bool:
        return bool(self.failed or self.retrying or (self.target and self.target.last_test_error))


_PROBLEM = Q(state=PublicationState.FAILED) | Q(state=PublicationState.PENDING, attempts__gt=0)


def publication_problems(*, limit: int = 5) -> PublicationProblems:
    """The active target's publication problems, in three queries whatever their number."""
    target = StorageConfig.objects.filter(is_active=True).defer("credentials").first()
    if target is None:  # never chosen: nothing was published anywhere yet
        return PublicationProblems(target=None, failed=0, retrying=0, newest=[])
    problems = target.publications.filter(_PROBLEM)
    counted = problems.aggregate(
        failed=Count("pk", filter=Q(state=PublicationState.FAILED)),
        retrying=Count("pk", filter=Q(state=PublicationState.PENDING)),
    )
    newest = list(
        problems.select_related("version__certificate")
        .only(
            "state",
            "attempts",
            "last_error",
            "next_attempt_at",
            "updated_at",
            "version",
            "version__number",
            "version__certificate",
            "version__certificate__identifier",
            "version__certificate__kind",
        )
        .order_by("-updated_at", "-pk")[:limit]
    )
    return PublicationProblems(target=target, newest=newest, **counted)


def version_live(version: CertificateVersion) -> Live:
    """Whether ``version`` (or a later version of its certificate, published over it) is on the active
    target, or what it still waits for: answers apps.certificates.publication for the storage app."""
    target = StorageConfig.objects.filter(is_active=True).defer("credentials").first()
    if target is None:
        return Live(published=False, waiting="waiting for storage to publish it (no target yet)")
    rows = Publication.objects.filter(
        target=target, version__certificate_id=version.certificate_id, version__number__gte=version.number
    )
    # Published once is live: a publication asked for again (a republish) keeps what it stored meanwhile.
    published = rows.filter(published_at__isnull=False).order_by("published_at").first()
    if published is not None:
        return Live(published=True, published_at=published.published_at)
    own = rows.filter(version=version).first()
    where = target.get_backend_display()
    if own is None:
        return Live(published=False, waiting=f"waiting for storage to publish it to {where}")
    if own.state == PublicationState.FAILED:
        return Live(published=False, waiting=f"publishing to {where} failed: {own.last_error}"[:500], stalled=True)
    tried = f" (attempt {own.attempts} failed: {own.last_error})" if own.attempts and own.last_error else ""
    return Live(published=False, waiting=f"publishing to {where}{tried}"[:500])
