"""The local filesystem: ``<root>/<tenant>/<server|client>/<folder>/`` per certificate.

Each certificate folder holds cert.pem, chain.pem, fullchain.pem, privkey.pem (unless the key stayed with
the requester), ca.pem (a private CA's certificates), metadata.json and archive/ (cert1.pem, chain1.pem, …
for every version stored). A new version is written whole into a
fresh sibling folder, then swapped in with one atomic rename exchange: a reader (or a crash) sees
either the old set or the new one, never half a file or a new certificate beside an old key.
Private keys 0600, public files 0644, directories 0700.

To read a set that belongs together, open the certificate folder once and read its files relative to
that handle (openat), or compare metadata.json's fingerprint: the old set stays readable through an
open handle until the next store.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings as django_settings

from apps.storage.backends.base import (
    ALL_FILES,
    KINDS,
    METADATA_FILE,
    Bundle,
    IdentifierRefused,
    StorageBackend,
    StorageError,
    StoredItem,
)
from apps.storage.naming import check_identifier, escape, unescape

logger = logging.getLogger(__name__)
FILE_MODE, KEY_MODE, DIR_MODE = 0o644, 0o600, 0o700
KEY_FILES = frozenset({"privkey.pem"})
_ARCHIVED = re.compile(r"(cert|chain|fullchain|privkey|ca|metadata)(\d+)\.(pem|json)")
_NAME_MAX = 255
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system can't."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    if call(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask says
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(name: str) -> int:
    return KEY_MODE if name.startswith("privkey") else FILE_MODE


class LocalFilesystemBackend(StorageBackend):
    name = "local_filesystem"
    label = "Local filesystem"
    keeps_versions = True

    @property
    def root(self) -> Path:
        # The platform's folder, never a tenant's choice: a tenant cannot point certmate at other paths.
        return Path(django_settings.CERTMATE_STORAGE_ROOT)

    def describe(self) -> str:
        return f"{self.label} ({self.root / self.tenant})"

    # --- paths: every one is built from validated parts and checked to stay in the tenant's folder ---
    def _tenant_dir(self) -> Path:
        from apps.accounts.validators import SLUG_RE

        if not SLUG_RE.fullmatch(self.tenant):
            raise StorageError(f"tenant slug {self.tenant!r} is not valid", transient=False)
        return self.root / self.tenant

    def _folder(self, kind: str, identifier: str) -> Path:
        check_identifier(kind, identifier)
        name = escape(identifier)
        if len(name) > _NAME_MAX - 40:  # room for the swap folder's suffix
            raise IdentifierRefused(f"identifier {identifier[:40]!r}… is too long for a folder name")
        folder = self._tenant_dir() / kind / name
        if folder.parent.parent != self._tenant_dir() or name in ("", ".", ".."):
            raise StorageError(f"identifier {identifier!r} would leave the tenant's folder", transient=False)
        return folder

    def _ensure_dirs(self, path: Path) -> None:
        for part in (self.root, self._tenant_dir(), path):
            if part.is_symlink():
                raise StorageError(f"{part} is a symbolic link: refusing to write through it", transient=False)
            part.mkdir(mode=DIR_MODE, exist_ok=True)
            os.chmod(part, DIR_MODE)

    @contextlib.contextmanager
    def _locked(self, folder: Path):
        """One writer per certificate folder at a time (other processes included)."""
        lock_path = folder.parent / f".{folder.name}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, KEY_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _failed(self, action: str, kind: str, identifier: str, exc: OSError) -> StorageError:
        return StorageError(f"could not {action} {kind}/{identifier} under {self.root / self.tenant}: {exc.strerror}")

    @staticmethod
    def _previous(folder: Path) -> Path:
        return folder.parent / f".{folder.name}.previous"

    # --- the interface ---
    def store(self, bundle: Bundle) -> None:
        folder = self._folder(bundle.kind, bundle.identifier)
        try:
            self._ensure_dirs(folder.parent)
            with self._locked(folder):
                if self._read_or_none(folder, bundle.kind, bundle.identifier) == bundle:
                    return
                self._swap_in(folder, bundle)
        except OSError as exc:
            raise self._failed("write", bundle.kind, bundle.identifier, exc) from None

    def _swap_in(self, folder: Path, bundle: Bundle) -> None:
        staging = folder.parent / f".{folder.name}.new-{uuid.uuid4().hex[:12]}"
        staging.mkdir(mode=DIR_MODE)
        try:
            archive = staging / "archive"
            archive.mkdir(mode=DIR_MODE)
            if (folder / "archive").is_dir():
                for old in (folder / "archive").iterdir():
                    if _ARCHIVED.fullmatch(old.name):
                        _write(archive / old.name, old.read_text(), _mode_for(old.name))
            for name, text in bundle.files().items():
                _write(staging / name, text, KEY_MODE if name in KEY_FILES else FILE_MODE)
                stem, ext = name.rsplit(".", 1)
                archived = archive / f"{stem}{bundle.version}.{ext}"
                archived.unlink(missing_ok=True)
                _write(archived, text, _mode_for(stem))
            _fsync_dir(archive)
            _fsync_dir(staging)
            if folder.exists() and _renameat2_exchange(staging, folder):
                # staging now holds the old set. Kept until the next store, so a reader that opened
                # the folder just before the swap can still finish reading a whole set.
                previous = self._previous(folder)
                shutil.rmtree(previous, ignore_errors=True)
                os.rename(staging, previous)
                staging = None
            elif folder.exists():
                # No atomic exchange on this system: move the old set aside, then the new one in.
                aside = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:12]}"
                os.rename(folder, aside)
                try:
                    os.rename(staging, folder)
                except OSError:
                    os.rename(aside, folder)  # the live set goes back where readers look for it
                    raise
                staging = aside
            else:
                os.rename(staging, folder)
                staging = None
            _fsync_dir(folder.parent)
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        folder = self._folder(kind, identifier)
        try:
            if version is None:
                return self._read_folder(folder, kind, identifier)
            archive = folder / "archive"
            files = {}
            for name in ALL_FILES:
                stem, ext = name.rsplit(".", 1)
                path = archive / f"{stem}{int(version)}.{ext}"
                if path.is_file():
                    files[name] = path.read_text()
            if METADATA_FILE not in files:
                return None
            return Bundle.from_files(kind=kind, identifier=identifier, files=files)
        except OSError as exc:
            raise self._failed("read", kind, identifier, exc) from None

    def _read_or_none(self, folder: Path, kind: str, identifier: str) -> Bundle | None:
        """The stored bundle, or None when there is none or it is damaged (the next store replaces it)."""
        try:
            return self._read_folder(folder, kind, identifier)
        except StorageError as exc:
            logger.warning("%s: %s", folder, exc.reason)
            return None

    def _read_folder(self, folder: Path, kind: str, identifier: str) -> Bundle | None:
        if not folder.is_dir():
            return None
        files = {name: (folder / name).read_text() for name in ALL_FILES if (folder / name).is_file()}
        return Bundle.from_files(kind=kind, identifier=identifier, files=files)

    def list(self) -> list[StoredItem]:
        try:
            return self._list()
        except OSError as exc:
            raise StorageError(f"could not list {self.root / self.tenant}: {exc.strerror}") from None

    def _list(self) -> list[StoredItem]:
        items = []
        for kind in KINDS:
            base = self._tenant_dir() / kind
            if not base.is_dir():
                continue
            for entry in sorted(base.iterdir()):
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                try:
                    identifier = unescape(entry.name)
                except ValueError:
                    continue  # not ours
                bundle = self._read_or_none(entry, kind, identifier)
                if bundle is not None:
                    items.append(StoredItem(kind, identifier, bundle.version))
        return items

    def delete(self, kind: str, identifier: str) -> None:
        folder = self._folder(kind, identifier)
        if not folder.exists():
            return
        try:
            with self._locked(folder):
                if folder.exists():
                    aside = folder.parent / f".{folder.name}.gone-{uuid.uuid4().hex[:12]}"
                    os.rename(folder, aside)
                    shutil.rmtree(aside)
                shutil.rmtree(self._previous(folder), ignore_errors=True)
        except OSError as exc:
            raise self._failed("delete", kind, identifier, exc) from None

    def test_connection(self) -> None:
        try:
            self._ensure_dirs(self._tenant_dir())
            probe = self._tenant_dir() / f".probe-{uuid.uuid4().hex[:8]}"
            _write(probe, "ok", KEY_MODE)
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"cannot write to {self.root / self.tenant}: {exc.strerror}", transient=False) from None
