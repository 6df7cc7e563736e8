"""The tenant's storage target: which backend, with what settings and credentials; checked, tested
and described. Switching to another target is apps.storage.services.switch."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.storage.backends import BACKENDS, LOCAL, backend_class
from apps.storage.backends.base import StorageBackend, StorageError
from apps.storage.models import StorageConfig
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record

AUDIT_TYPE = "storage_config"


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


def storage_config_check(config: StorageConfig) -> None:
    """Reach the target (saved or not) with its settings and credentials: StorageError saying what
    failed. Nothing is recorded; call it with no transaction open (the tenant chose the host)."""
    storage_backend(config).test_connection()


def storage_config_test(*, config: StorageConfig, actor: Actor) -> None:
    """Reach a saved target; record the outcome on it and in the audit log, and raise StorageError
    with what failed."""
    try:
        storage_config_check(config)
    except StorageError as exc:
        _test_recorded(config, error=exc.reason, actor=actor)
        raise
    _test_recorded(config, error="", actor=actor)


def _test_recorded(config: StorageConfig, *, error: str, actor: Actor) -> None:
    with transaction.atomic():
        row = StorageConfig.objects.select_for_update().get(pk=config.pk)
        before = {"last_test_at": row.last_test_at, "last_test_error": row.last_test_error}
        config.last_test_at, config.last_test_error = timezone.now(), error
        StorageConfig.objects.filter(pk=row.pk).update(last_test_at=config.last_test_at, last_test_error=error)
        audit_record(
            actor=actor,
            action="storage_config.tested",
            target=row,
            object_type=AUDIT_TYPE,
            object_name=storage_target_name(row),
            # Both always: the error after the test is its result ("" when the target answered).
            changes={name: [value, getattr(config, name)] for name, value in before.items()},
        )


def storage_target_name(config: StorageConfig) -> str:
    """Where the target puts material, for people (never a credential); its backend when unusable."""
    try:
        return storage_backend(config).describe()
    except StorageError:
        return config.get_backend_display()


def storage_config_changes(before: StorageConfig | None, after: StorageConfig) -> dict[str, Any]:
    """What moving from ``before`` to ``after`` changes, for the audit log: backend and settings
    before and after; credentials only as changed."""

    def seen(config: StorageConfig | None) -> dict[str, Any]:
        if config is None:
            return {}
        return {"backend": config.backend, "settings": config.settings or {}, "credentials": config.credentials or {}}

    return audit_changes(seen(before), seen(after), secret=("credentials",))
