"""Reading the archives kept for the current tenant (CertMate's /api/backups): files under
CERTMATE_BACKUP_DIR/<tenant>/.

A tenant reaches only its own folder: the folder is the current schema's, and a file name must match
``FILENAME`` exactly (no separator, no dot-dot), so no name leads anywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from apps.backups.crypto import BackupError, read_header
from certmate.errors import NotFound

SUFFIX = ".tar.gz.enc"
FILENAME = re.compile(r"backup_[0-9]{8}_[0-9]{6}_[0-9]{6}_[a-z0-9_-]{1,40}\.tar\.gz\.enc")
_REASON_CHARACTERS = re.compile(r"[^a-z0-9_-]+")


def tenant_folder() -> Path:
    return Path(settings.CERTMATE_BACKUP_DIR) / connection.schema_name


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
    folder = tenant_folder()
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
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
