"""A CertMate install read without changing it: a folder (its base with data/ and certificates/, or its
data/ folder) or a backup zip. Every file is listed by a relative POSIX path; reads are bounded.

A zip is read in place, entry by entry: no entry is ever written out, so a hostile name (absolute,
``..``, a symlink) cannot land anywhere. Such entries, and entries over the bounds, are refused by name
(``Source.refused``) and the rest still reads. A folder is walked without following symlinks.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# A CertMate install with 10,000 certificates and their lineages has about 200,000 files.
MAX_ENTRIES = 250_000
MAX_FILE_BYTES = 8 * 1024 * 1024  # settings.json of a large install; any PEM is far smaller
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
# zipfile turns the whole central directory into objects (about 370 bytes each) before anything is
# counted: its size is checked first. CertMate's paths keep an entry's listing well under 256 bytes.
MAX_CENTRAL_DIRECTORY_BYTES = MAX_ENTRIES * 256
# A zip entry that inflates more than this many times is a bomb, not certificates.
MAX_RATIO = 200
_SYMLINK_MODE = 0o120000


class SourceError(Exception):
    """The source cannot be read at all (not a folder, not a zip, too many entries)."""


@dataclass
class Source:
    """The files of a CertMate install by relative path; ``refused`` names what was not read and why."""

    label: str
    files: dict[str, int] = field(default_factory=dict)  # path -> size
    refused: dict[str, str] = field(default_factory=dict)

    def read(self, path: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def exists(self, path: str) -> bool:
        return path in self.files


def _clean_name(name: str) -> str | None:
    """The entry's path relative to the source, or None when it would leave it."""
    if "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or not path.parts:
        return None
    return path.as_posix()


class FolderSource(Source):
    def __init__(self, root: Path):
        super().__init__(label=str(root))
        self.root = root
        self._walk()

    def _walk(self) -> None:
        for directory, dirnames, filenames in os.walk(self.root, followlinks=False):
            base = Path(directory)
            for name in [*dirnames, *filenames]:
                full = base / name
                relative = full.relative_to(self.root).as_posix()
                info = full.lstat()
                if stat.S_ISLNK(info.st_mode):
                    # certbot's live/ holds symlinks into archive/: the archive is read instead.
                    self.refused[relative] = "a symbolic link (not followed)"
                elif stat.S_ISREG(info.st_mode):
                    self.files[relative] = info.st_size
                if len(self.files) + len(self.refused) > MAX_ENTRIES:
                    raise SourceError(f"{self.root} holds more than {MAX_ENTRIES} entries: is it a CertMate folder?")

    def read(self, path: str) -> bytes:
        size = self.files[path]
        if size > MAX_FILE_BYTES:
            raise SourceError(f"{path} is {size} bytes, over the {MAX_FILE_BYTES} read per file")
        with open(self.root / path, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]


def _check_listing(path: Path) -> None:
    """SourceError when the zip's end record announces more entries, or a longer central directory, than
    a CertMate install has (read before zipfile reads the directory: a small zip can list millions)."""
    with open(path, "rb") as handle:
        end = zipfile._EndRecData(handle)  # the end record zipfile itself reads first (zip64 included)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_ENTRIES or size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise SourceError(
            f"the zip's central directory lists {entries} entries in {size} bytes, over {MAX_ENTRIES} entries or "
            f"{MAX_CENTRAL_DIRECTORY_BYTES} bytes: is it a CertMate backup?"
        )


class ZipSource(Source):
    def __init__(self, path: Path):
        super().__init__(label=str(path))
        try:
            _check_listing(path)
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"{path.name} is not a readable zip file: {exc}") from None
        self._index()

    def _index(self) -> None:
        entries = self.archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise SourceError(f"the zip holds {len(entries)} entries, over {MAX_ENTRIES}")
        total = 0
        self._entries: dict[str, zipfile.ZipInfo] = {}
        for info in entries:
            name = _clean_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
            shown = info.filename[:300]
            if name is None:
                self.refused[shown] = "a path outside the archive (absolute or with '..')"
                continue
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 == _SYMLINK_MODE:
                self.refused[name] = "a symbolic link (not followed)"
                continue
            if info.file_size > MAX_FILE_BYTES:
                self.refused[name] = f"{info.file_size} bytes, over the {MAX_FILE_BYTES} read per file"
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1_000_000:
                self.refused[name] = f"inflates {info.file_size // info.compress_size} times: refused as a zip bomb"
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SourceError(f"the zip inflates to more than {MAX_TOTAL_BYTES} bytes")
            if name in self._entries:
                self.refused[name] = "a second entry with the same name"
                continue
            self._entries[name] = info
            self.files[name] = info.file_size

    def read(self, path: str) -> bytes:
        # The declared size is not trusted: at most MAX_FILE_BYTES are inflated.
        with self.archive.open(self._entries[path]) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SourceError(f"{path} inflates past {MAX_FILE_BYTES} bytes")
        return data

    def close(self) -> None:
        self.archive.close()


def source_open(path: Path) -> Source:
    """The CertMate install at ``path`` (a folder or a zip), or SourceError saying why it cannot be read."""
    if path.is_dir():
        # CertMate's data/ folder given: its certificates/ folder is beside it, in the install's base.
        beside = (path.parent / "certificates").is_dir() and not (path / "certificates").exists()
        if (path / "settings.json").is_file() and beside:
            return FolderSource(path.parent)
        return FolderSource(path)
    if path.is_file():
        return ZipSource(path)
    raise SourceError(f"{path} is neither a folder nor a zip file")
