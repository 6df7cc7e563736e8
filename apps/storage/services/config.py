"""The tenant's storage target: which backend, with what settings and credentials."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.storage.backends import BACKENDS, backend_class
from apps.storage.backends.base import StorageError
from apps.storage.models import StorageConfig
from apps.storage.services.publishing import publications_request_all
from apps.storage.services.targets import given_credentials, storage_backend, storage_config_active

# Bounds on every value a tenant gives a backend (a CA bundle's PEM is the longest setting).
MAX_SETTING_CHARS = 65536
MAX_CREDENTIAL_CHARS = 16384
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _value_problem(value: Any, *, secret: bool) -> str | None:
    """Why a setting or credential value cannot be stored (never quoting it), or None."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    allowed = (str,) if secret else (str, bool, int, float)
    if not isinstance(value, allowed):
        return "must be text" if secret else "must be text, a number or true/false"
    if isinstance(value, str):
        limit = MAX_CREDENTIAL_CHARS if secret else MAX_SETTING_CHARS
        if len(value) > limit:
            return f"is too long (at most {limit} characters)"
        if _CONTROL.search(value):
            return "must not hold control characters"
    return None


def storage_config_validate(*, backend: str, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> dict:
    """Settings with their defaults, or ValidationError naming each bad field. Credentials are checked
    for names and types only: every backend may also fall back to its platform's default chain."""
    try:
        cls = backend_class(backend)
    except StorageError as exc:
        raise ValidationError({"backend": exc.reason}, code="unknown_backend") from None
    errors: dict[str, str] = {}
    for name, value in settings.items():
        if name not in cls.setting_fields:
            errors[name] = f"{cls.label} has no setting {name!r} (known: {', '.join(cls.setting_fields) or 'none'})"
        elif problem := _value_problem(value, secret=False):
            errors[name] = f"{cls.label} setting {name!r} {problem}"
    for name, value in credentials.items():
        if name not in cls.credential_fields:
            errors[name] = (
                f"{cls.label} has no credential {name!r} (known: {', '.join(cls.credential_fields) or 'none'})"
            )
        elif problem := _value_problem(value, secret=True):
            errors[name] = f"{cls.label} credential {name!r} {problem}"
    if not errors:
        errors.update(cls.settings_problems(settings))
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


def storage_credentials_kept(*, previous: StorageConfig | None, backend: str, settings: Mapping[str, Any]) -> dict:
    """The credentials stored with ``previous``, for new settings that send them to the same place;
    none for another backend. ValidationError naming the credentials to give again when the settings
    send them elsewhere (a new address, region, namespace or TLS trust): a stored secret never follows
    a changed address."""
    if previous is None or previous.backend != backend or backend not in BACKENDS:
        return {}
    stored = given_credentials(previous.credentials)
    cls = backend_class(backend)
    if stored and cls.destination(previous.settings or {}) != cls.destination(settings):
        moved = [
            name
            for name, before, after in zip(
                cls.destination_fields, cls.destination(previous.settings or {}), cls.destination(settings), strict=True
            )
            if before != after
        ]
        message = (
            f"changing {', '.join(moved)} sends the credentials somewhere else: give {', '.join(sorted(stored))} again"
        )
        raise ValidationError({"credentials": ValidationError(message, code="credentials_required")})
    return dict(previous.credentials or {})


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
    changes nothing. Without ``credentials`` the active target's are kept, for the same backend and
    destination only (see storage_credentials_kept)."""

    active = storage_config_active()
    settings = dict(settings or {})
    if credentials is None:
        credentials = storage_credentials_kept(previous=active, backend=backend, settings=settings)
    credentials = dict(credentials)
    settings = storage_config_validate(backend=backend, settings=settings, credentials=credentials)
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
