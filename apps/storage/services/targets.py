"""The tenant's active storage target and the backend that reaches a target: what publishing, migrating
and configuring all start from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction

from apps.storage.backends import LOCAL, backend_class
from apps.storage.backends.base import StorageBackend, StorageError
from apps.storage.models import StorageConfig


def storage_config_active() -> StorageConfig:
    """The active target; the local filesystem when the tenant never chose one (no setup needed)."""
    config = StorageConfig.objects.filter(is_active=True).first()
    if config is not None:
        return config
    try:
        with transaction.atomic():
            return StorageConfig.objects.create(backend=LOCAL, is_active=True)
    except IntegrityError:  # another process made it first
        return StorageConfig.objects.get(is_active=True)


def given_credentials(credentials: Mapping[str, Any] | None) -> dict[str, Any]:
    """The credentials actually given: an empty value is no value (the SDKs read it that way too)."""
    return {name: value for name, value in (credentials or {}).items() if value not in (None, "")}


def storage_backend(config: StorageConfig) -> StorageBackend:
    cls = backend_class(config.backend)
    credentials = given_credentials(config.credentials)
    if (
        cls.platform_credentials_fallback
        and not credentials
        and not django_settings.CERTMATE_STORAGE_PLATFORM_CREDENTIALS
    ):
        raise StorageError(f"{cls.label} has no credentials, and this platform lends tenants no identity of its own")
    return cls(tenant=connection.schema_name, settings=config.settings or {}, credentials=credentials)


def same_place(first: StorageConfig, second: StorageConfig) -> bool:
    """Whether two configurations put material in the same place (same backend and location settings)."""
    if first.backend != second.backend:
        return False
    cls = backend_class(first.backend)
    return cls.location(first.settings or {}) == cls.location(second.settings or {})
