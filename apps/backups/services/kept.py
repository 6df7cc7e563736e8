"""The archives kept for a tenant (CertMate's /api/backups): made by the same export, encrypted with the
platform key or a passphrase, bounded in count and size (see selectors.py for where they are)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.backups.crypto import DecryptingReader
from apps.backups.selectors import FILENAME, SUFFIX, backup_path, reason_clean, tenant_folder
from apps.backups.services.export import AUDIT_TYPE, tenant_export
from apps.backups.services.restore import RestoreReport, tenant_import
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.locks import BACKUP, session_lock


def _prune(folder: Path, *, keep: set[str]) -> list[str]:
    """Remove the oldest archives beyond CERTMATE_BACKUPS_KEPT or CERTMATE_BACKUP_TENANT_MAX_MB; never the
    newest one nor those in ``keep``."""
    archives = sorted(path for path in folder.iterdir() if FILENAME.fullmatch(path.name))
    sizes = {path: path.stat().st_size for path in archives}
    limit_bytes = settings.CERTMATE_BACKUP_TENANT_MAX_MB * 1024 * 1024
    removed = []
    for path in archives[:-1]:
        if len(archives) - len(removed) <= settings.CERTMATE_BACKUPS_KEPT and sum(sizes.values()) <= limit_bytes:
            break
        if path.name in keep:
            continue
        path.unlink(missing_ok=True)
        sizes.pop(path)
        removed.append(path.name)
    return removed


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """One backup or restore of a tenant at a time: each reads or rewrites all of it."""
    with session_lock(BACKUP, "kept backups") as taken:
        if not taken:
            raise ValidationError(
                "a backup or restore of this tenant is running: try again once it has finished", code="in_use"
            )
        yield


def backup_create(*, reason: str = "manual", passphrase: str | None = None, actor: Actor) -> str:
    """Export the current tenant into a new kept archive; its file name. Written beside its final name and
    renamed once whole (a reader never sees half an archive); the oldest archives beyond the bounds go."""
    with _one_at_a_time():
        return _create(reason=reason, passphrase=passphrase, actor=actor)


def _create(*, reason: str, passphrase: str | None, actor: Actor, keep: str = "") -> str:
    folder = tenant_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")
    filename = f"backup_{stamp}_{reason_clean(reason)}{SUFFIX}"
    partial = folder / f".{filename}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            tenant_export(sink=sink, passphrase=passphrase, actor=actor, label=filename)
        partial.rename(folder / filename)
    finally:
        partial.unlink(missing_ok=True)
    _prune(folder, keep={filename, keep})
    return filename


def backup_delete(*, filename: str, actor: Actor) -> None:
    path = backup_path(filename)
    with transaction.atomic():
        audit_record(actor=actor, action="backup.deleted", object_type=AUDIT_TYPE, object_name=filename)
        path.unlink()


def backup_downloaded(*, filename: str, actor: Actor) -> Path:
    """The archive's path, its download recorded (who took a copy of every secret of the tenant)."""
    path = backup_path(filename)
    with transaction.atomic():
        audit_record(actor=actor, action="backup.downloaded", object_type=AUDIT_TYPE, object_name=filename)
    return path


def backup_restore(
    *, filename: str, passphrase: str | None = None, backup_first: bool = True, actor: Actor
) -> tuple[RestoreReport, str | None]:
    """Replace the current tenant's rows with a kept archive's (optionally after keeping the present state
    as a new archive first); the report and the name of that pre-restore archive."""
    path = backup_path(filename)
    with path.open("rb") as probe:
        DecryptingReader(probe, passphrase=passphrase)  # a wrong passphrase stops here, before the backup first
    with _one_at_a_time():
        before = _create(reason="pre_restore", passphrase=None, actor=actor, keep=filename) if backup_first else None
        tenant = connection.tenant
        with tenant_context(tenant), path.open("rb") as source:  # the request goes on in its tenant afterwards
            report = tenant_import(
                source=source, slug=tenant.schema_name, passphrase=passphrase, replace=True, actor=actor
            )
    return report, before
