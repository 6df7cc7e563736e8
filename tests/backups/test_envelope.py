"""The encrypted envelope over archives larger than one chunk: what comes out is what went in, and any
chunk changed, swapped, dropped or added is refused."""

from __future__ import annotations

import io
import os
import struct

import pytest

from apps.backups.crypto import CHUNK, MAGIC, BackupError, DecryptingReader, EncryptingWriter, Tampered, WrongKey

PASSPHRASE = "a long enough passphrase"
PAYLOAD = os.urandom(CHUNK * 2 + 12345)  # three chunks, the last one partial


def sealed(payload: bytes = PAYLOAD) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, metadata={"tenant": "alpha"}, passphrase=PASSPHRASE)
    for start in range(0, len(payload), 70_000):  # written in pieces that straddle the chunks
        writer.write(payload[start : start + 70_000])
    writer.close()
    return sink.getvalue()


def opened(archive: bytes, passphrase: str = PASSPHRASE, piece: int = 65_536) -> bytes:
    reader = DecryptingReader(io.BytesIO(archive), passphrase=passphrase)
    out = bytearray()
    while data := reader.read(piece):
        out += data
    return bytes(out)


def chunks(archive: bytes) -> tuple[bytes, list[bytes]]:
    """The archive cut into its header part and its chunks (each with its length prefix)."""
    (header_length,) = struct.unpack(">I", archive[len(MAGIC) : len(MAGIC) + 4])
    at = len(MAGIC) + 4 + header_length
    head, parts = archive[:at], []
    while at < len(archive):
        (length,) = struct.unpack(">I", archive[at : at + 4])
        parts.append(archive[at : at + 4 + length])
        at += 4 + length
    return head, parts


def test_what_goes_in_comes_out_whatever_the_read_size():
    archive = sealed()
    assert len(chunks(archive)[1]) == 3
    assert opened(archive) == PAYLOAD
    assert opened(archive, piece=4096) == PAYLOAD
    reader = DecryptingReader(io.BytesIO(archive), passphrase=PASSPHRASE)
    assert reader.read() == PAYLOAD and reader.read(10) == b""
    assert reader.metadata == {"tenant": "alpha"}


def test_empty_payload_still_has_its_final_chunk():
    assert opened(sealed(b"")) == b""


@pytest.mark.parametrize("change", ["swap", "drop_last", "drop_middle", "duplicate", "append", "flip"])
def test_changed_chunks_are_refused(change):
    head, parts = chunks(sealed())
    if change == "swap":
        parts[0], parts[1] = parts[1], parts[0]
    elif change == "drop_last":
        parts = parts[:-1]
    elif change == "drop_middle":
        del parts[1]
    elif change == "duplicate":
        parts.insert(1, parts[0])
    elif change == "append":
        parts.append(b"\x00\x00\x00\x01x")
    else:
        parts[1] = parts[1][:100] + bytes([parts[1][100] ^ 1]) + parts[1][101:]
    with pytest.raises(Tampered):
        opened(head + b"".join(parts))


def test_wrong_passphrase_and_not_an_archive():
    with pytest.raises(WrongKey, match="wrong passphrase"):
        DecryptingReader(io.BytesIO(sealed(b"x")), passphrase="another long passphrase")
    with pytest.raises(BackupError, match="not a certmate backup"):
        DecryptingReader(io.BytesIO(b"PK\x03\x04 a zip file"), passphrase=PASSPHRASE)
    with pytest.raises(BackupError, match="12 to 1024 characters"):
        EncryptingWriter(io.BytesIO(), metadata={}, passphrase="short")
