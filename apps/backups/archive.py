"""What is inside a backup, once decrypted: a gzipped tar stream of

    manifest.json           format, tenant, time, versions, migration state, content types, and per table
                            its columns, secret columns, row count and the SHA-256 of its member
    tables/<table>.jsonl    one JSON object per row (PostgreSQL's row_to_json), secrets in plaintext

The manifest comes first, so a restore checks it before it writes anything; the tables follow by name.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from typing import IO, Any

from apps.backups.crypto import Tampered

FORMAT = 1
KIND = "certmate-tenant-backup"
MANIFEST = "manifest.json"
_MAX_MANIFEST = 16 * 1024 * 1024


def member_name(table: str) -> str:
    return f"tables/{table}.jsonl"


def tar_writer(sink: IO[bytes]) -> tarfile.TarFile:
    return tarfile.open(fileobj=sink, mode="w|gz", format=tarfile.PAX_FORMAT)


def add_member(tar: tarfile.TarFile, name: str, content: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o600
    tar.addfile(info, content)


def add_manifest(tar: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    raw = json.dumps(manifest, sort_keys=True, indent=1).encode()
    add_member(tar, MANIFEST, io.BytesIO(raw), len(raw))


def read_members(source: IO[bytes]) -> tuple[dict[str, Any], Iterator[tuple[str, IO[bytes]]]]:
    """The manifest, and then each member as (table, file) in the archive's order (read each file before
    asking for the next: the tar is a stream)."""
    try:
        tar = tarfile.open(fileobj=source, mode="r|gz")  # noqa: SIM115 - the members' iterator reads it on
        first = tar.next()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Tampered(f"the archive's content is not a certmate backup ({exc})") from None
    if first is None or first.name != MANIFEST or not first.isfile() or first.size > _MAX_MANIFEST:
        raise Tampered("the archive's content does not start with its manifest")
    try:
        manifest = json.loads(tar.extractfile(first).read())
    except ValueError:
        raise Tampered("the archive's manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise Tampered("the archive's manifest is not a certmate tenant backup's")
    if manifest.get("format") != FORMAT:
        raise Tampered(f"this backup's format ({manifest.get('format')}) is not one this certmate reads ({FORMAT})")
    return manifest, _tables(tar)


def _tables(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        while (member := tar.next()) is not None:  # iterating the TarFile would start again at the manifest
            name = member.name
            if not (member.isfile() and name.startswith("tables/") and name.endswith(".jsonl")):
                raise Tampered(f"the archive holds an unexpected member {name[:80]!r}")
            yield name[len("tables/") : -len(".jsonl")], tar.extractfile(member)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Tampered(f"the archive's content is damaged ({exc})") from None


class Digest:
    """Rows and SHA-256 of a member's lines, as they are written or read."""

    def __init__(self) -> None:
        self.rows = 0
        self._sha = hashlib.sha256()

    def add(self, line: bytes) -> None:
        self.rows += 1
        self._sha.update(line)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()
