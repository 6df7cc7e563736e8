"""The tenant's storage target: which backend, with what settings and credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

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


def storage_config_validate(*, backend: str, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> dict:
    """Settings with their defaults, or ValidationError naming each bad field. Credentials are checked
    for unknown names only: every backend may also fall back to its platform's default chain."""
    try:
        cls = backend_class(backend)
    except StorageError as exc:
        raise ValidationError({"backend": exc.reason}, code="unknown_backend") from None
    errors: dict[str, str] = {}
    for name in settings:
        if name not in cls.setting_fields:
            errors[name] = f"{cls.label} has no setting {name!r} (known: {', '.join(cls.setting_fields) or 'none'})"
    for name in credentials:
        if name not in cls.credential_fields:
            errors[name] = (
                f"{cls.label} has no credential {name!r} (known: {', '.join(cls.credential_fields) or 'none'})"
            )
    for name, help_text in cls.setting_fields.items():
        if name not in cls.defaults and settings.get(name) in (None, ""):
            errors[name] = f"{cls.label} needs {name!r}: {help_text}"
    for name, reason in cls.refused_destinations(settings).items():
        errors.setdefault(name, reason)
    lend_identity = django_settings.CERTMATE_STORAGE_PLATFORM_CREDENTIALS
    if cls.platform_credentials_fallback and not given_credentials(credentials) and not lend_identity:
        errors["credentials"] = (
            f"{cls.label} needs credentials: this platform does not lend tenants its own cloud identity "
            "(CERTMATE_STORAGE_PLATFORM_CREDENTIALS)"
        )
    if errors:
        raise ValidationError(errors, code="invalid_storage_settings")
    return dict(settings)


def storage_config_test(*, config: StorageConfig) -> None:
    """Reach the target; record and raise StorageError with what failed."""
    error = ""
    try:
        storage_backend(config).test_connection()
    except StorageError as exc:
        error = exc.reason
        raise
    finally:
        if config.pk:
            StorageConfig.objects.filter(pk=config.pk).update(last_test_at=timezone.now(), last_test_error=error)


def storage_config_set(
    *,
    backend: str,
    settings: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    test: bool = True,
) -> StorageConfig:
    """Make a new target the active one and queue the current versions for it. A target that cannot
    be reached is refused (with test=True) and the active one stays. Setting what is already active
    changes nothing."""
    from apps.storage.services.publishing import publications_request_all

    settings, credentials = dict(settings or {}), dict(credentials or {})
    settings = storage_config_validate(backend=backend, settings=settings, credentials=credentials)
    active = storage_config_active()
    if active.backend == backend and active.settings == settings and active.credentials == credentials:
        return active
    candidate = StorageConfig(backend=backend, settings=settings, credentials=credentials)
    if test:
        storage_config_test(config=candidate)
    with transaction.atomic():
        StorageConfig.objects.filter(is_active=True).update(is_active=False)
        candidate.is_active = True
        candidate.last_test_at = timezone.now() if test else None
        candidate.save()
    # After the switch is visible, so that a version stored meanwhile for the old target is caught too.
    publications_request_all(target=candidate)
    return candidate
