"""Publishing a restored tenant's material again: the database is the system of record, so a restore
carries no files and rebuilds them from the rows, on whatever target the restored tenant uses."""

from __future__ import annotations

from apps.storage.backends.base import StorageError
from apps.storage.services.publishing import ResyncReport, publications_resync
from certmate.actors import Actor


def backup_republish() -> ResyncReport | None:
    """Publish what the target lacks (records ``storage.resynced``); None when the target cannot be reached
    now: the publications stay pending and the storage sweep and ``storage resync`` try again."""
    try:
        return publications_resync(actor=Actor.system("restore from backup"))
    except StorageError:
        return None
