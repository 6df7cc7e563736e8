"""Reads for storage."""

from __future__ import annotations

from django.db.models import Count

from apps.storage.models import PublicationState, StorageConfig


def publication_counts(*, target: StorageConfig) -> dict[str, int]:
    """The target's publications by state, every state named (one query)."""
    counted = dict(target.publications.values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counted.get(state, 0) for state in PublicationState.values}
