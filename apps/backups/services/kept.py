"""The archives kept for a tenant (CertMate's /api/backups): files under CERTMATE_BACKUP_DIR/<tenant>/, made
by the same export, encrypted with the platform key or a passphrase, bounded in count and size.

A tenant reaches only its own folder: the folder is the current schema's, and a file name must match
``FILENAME`` exactly (no separator, no dot-dot), so no name leads anywhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.backups.crypto import BackupError, DecryptingReader, read_header
from apps.backups.services.export import AUDIT_TYPE, tenant_export
from apps.backups.services.restore import RestoreReport, tenant_import
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.errors import NotFound

SUFFIX = ".tar.gz.enc"
FILENAME = re.compile(r"backup_\d{8}_\d{6}_\d{6}_[a-z0-9_-]{1,40}\.tar\.gz\.enc")
_REASON_CHARACTERS = re.compile(r"[^a-z0-9_-]+")


def tenant_folder() -> Path:
    folder = Path(settings.CERTMATE_BACKUP_DIR) / connection.schema_name
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def reason_clean(reason: str | None) -> str:
    """CertMate's free-text reason as a file name part: lower-case letters, digits, - and _, 40 at most."""
    cleaned = _REASON_CHARACTERS.sub("_", (reason or "manual").strip().lower()).strip("_")[:40]
    return cleaned or "manual"


def backup_path(filename: str) -> Path:
    """The current tenant's archive of that name (NotFound when there is none)."""
    if not isinstance(filename, str) or not FILENAME.fullmatch(filename):
        raise BackupError(
            "a backup file name looks like backup_20260101_120000_000000_manual.tar.gz.enc (see GET /api/backups)"
        )
    path = tenant_folder() / filename
    if not path.is_file():
        raise NotFound(f"no backup {filename}")
    return path


@dataclass(frozen=True)
class KeptBackup:
    filename: str
    size: int
    created: datetime
    metadata: dict[str, Any]


def backup_list() -> list[KeptBackup]:
    """The current tenant's archives, oldest first, with what their cleartext header says."""
    found = []
    for path in sorted(tenant_folder().iterdir()):
        if not FILENAME.fullmatch(path.name):
            continue
        stat = path.stat()
        try:
            with path.open("rb") as handle:
                _, header = read_header(handle)
        except BackupError:
            header = {}
        metadata = header.get("metadata") if isinstance(header.get("metadata"), dict) else {}
        metadata = {**metadata, "key": header.get("key", "unknown")}
        found.append(KeptBackup(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), metadata))
    return found


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


def backup_create(*, reason: str = "manual", passphrase: str | None = None, actor: Actor, keep: str = "") -> str:
    """Export the current tenant into a new kept archive; its file name. Written beside its final name and
    renamed once whole (a reader never sees half an archive); the oldest archives beyond the bounds go."""
    folder = tenant_folder()
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
    before = backup_create(reason="pre_restore", actor=actor, keep=filename) if backup_first else None
    tenant = connection.tenant
    with tenant_context(tenant), path.open("rb") as source:  # the request goes on in its tenant afterwards
        report = tenant_import(source=source, slug=tenant.schema_name, passphrase=passphrase, replace=True, actor=actor)
    return report, before
