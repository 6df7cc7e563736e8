"""Archives changed by someone who has the key: decrypted, a table or the manifest altered, encrypted again
(what only the manifest's checks and the migration check can catch)."""

from __future__ import annotations

import io
from collections.abc import Callable

from apps.backups.archive import add_manifest, add_member, member_name, read_members, tar_writer
from apps.backups.crypto import DecryptingReader, EncryptingWriter


def rewritten(
    archive: bytes,
    passphrase: str,
    *,
    tables: Callable[[str, list[bytes]], list[bytes]] = lambda name, lines: lines,
    manifest: Callable[[dict], dict] = lambda manifest: manifest,
) -> bytes:
    reader = DecryptingReader(io.BytesIO(archive), passphrase=passphrase)
    found, members = read_members(reader)
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, metadata=reader.metadata, passphrase=passphrase)
    with tar_writer(writer) as tar:
        add_manifest(tar, manifest(found))
        for name, content in members:
            data = b"".join(tables(name, content.read().splitlines(keepends=True)))
            add_member(tar, member_name(name), io.BytesIO(data), len(data))
    writer.close()
    return sink.getvalue()
