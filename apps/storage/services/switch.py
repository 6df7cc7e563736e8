"""Switching the tenant to another storage target: checked as every face checks it, tested, recorded,
and every current version queued for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.storage.models import StorageConfig
from apps.storage.services.config import (
    AUDIT_TYPE,
    storage_config_active,
    storage_config_changes,
    storage_config_check,
    storage_config_validate,
    storage_credentials_kept,
    storage_target_name,
)
from apps.storage.services.publishing import publications_request_all
from certmate.actors import Actor
from certmate.audit.services import audit_record


def storage_config_set(
    *,
    actor: Actor,
    backend: str,
    settings: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    test: bool = True,
    keep_from_id: int | None = None,
) -> StorageConfig:
    """Make a new target the active one and queue the current versions for it. A target that cannot
    be reached is refused (with test=True: StorageError) and the active one stays. Setting what is
    already active changes nothing. Without ``credentials`` those of the target numbered ``keep_from_id``
    (default: the active one) are kept, for the same backend and destination only (see
    storage_credentials_kept)."""
    active = storage_config_active()
    settings = dict(settings or {})
    if credentials is None:
        # Read from the database: the caller's copy may already hold the new settings (a model form's).
        previous = StorageConfig.objects.get(pk=keep_from_id) if keep_from_id is not None else active
        credentials = storage_credentials_kept(previous=previous, backend=backend, settings=settings)
    credentials = dict(credentials)
    settings = storage_config_validate(backend=backend, settings=settings, credentials=credentials)
    if active.backend == backend and active.settings == settings and active.credentials == credentials:
        return active
    candidate = StorageConfig(backend=backend, settings=settings, credentials=credentials)
    if test:
        storage_config_check(candidate)  # before the transaction: the tenant's host may answer slowly
    with transaction.atomic():
        previous = StorageConfig.objects.select_for_update().filter(is_active=True).first()
        StorageConfig.objects.filter(is_active=True).update(is_active=False)
        candidate.is_active = True
        candidate.last_test_at = timezone.now() if test else None
        candidate.save()
        audit_record(
            actor=actor,
            action="storage_config.updated",
            target=candidate,
            object_type=AUDIT_TYPE,
            object_name=storage_target_name(candidate),
            changes=storage_config_changes(previous, candidate),
        )
    # After the switch is visible, so that a version stored meanwhile for the old target is caught too.
    publications_request_all(target=candidate)
    return candidate
