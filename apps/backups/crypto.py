"""The encrypted envelope of a backup: a cleartext header, then the payload in AES-256-GCM chunks.

    CMBK1\\n | header length (4 bytes) | header (JSON) | chunk* ; chunk = length (4 bytes) | ciphertext

The key comes from a passphrase (scrypt, random salt) or from a platform key (CERTMATE_BACKUP_KEYS, else
the keys of CERTMATE_ENCRYPTION_KEYS), through HKDF into an encryption key and a key-check value kept in
the header, so a wrong passphrase is told apart from a changed archive. Every chunk authenticates the
header and its own position (nonce = random prefix, counter, last-chunk flag): a chunk changed, moved,
dropped or cut off is refused. Memory stays at one chunk whatever the archive's size.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings

MAGIC = b"CMBK1\n"
CHUNK = 1 << 20  # plaintext bytes per chunk
_MAX_HEADER = 64 * 1024
_LENGTH = struct.Struct(">I")
_SCRYPT = {"n": 1 << 15, "r": 8, "p": 1}
_CHECK_LABEL = b"certmate backup key check"
MIN_PASSPHRASE, MAX_PASSPHRASE = 12, 1024


class BackupError(Exception):
    """An archive that cannot be read or written; the message says what to do."""


class WrongKey(BackupError):
    pass


class Tampered(BackupError):
    pass


@dataclass(frozen=True)
class _Keys:
    encryption: bytes
    check: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.check).hexdigest()[:16]

    def check_value(self) -> str:
        return _b64(hmac.new(self.check, _CHECK_LABEL, hashlib.sha256).digest()[:16])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise Tampered(f"the archive's header is damaged ({what})") from None


def _expand(master: bytes, info: bytes) -> _Keys:
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=info).derive(master)
    return _Keys(derived[:32], derived[32:])


def passphrase_check(passphrase: str) -> str:
    if not isinstance(passphrase, str) or not MIN_PASSPHRASE <= len(passphrase) <= MAX_PASSPHRASE:
        raise BackupError(f"a backup passphrase has {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters")
    return passphrase


def _from_passphrase(passphrase: str, salt: bytes, n: int, r: int, p: int) -> _Keys:
    master = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase_check(passphrase).encode())
    return _expand(master, b"certmate-backup-passphrase")


def platform_keys() -> list[_Keys]:
    """The platform's backup keys, newest first: CERTMATE_BACKUP_KEYS when set, else the encryption keys."""
    raw = list(settings.CERTMATE_BACKUP_KEYS) or list(settings.CERTMATE_ENCRYPTION_KEYS)
    keys = []
    for text in raw:
        try:
            master = base64.urlsafe_b64decode(text.encode())
        except ValueError:
            master = b""
        if len(master) != 32:
            raise BackupError("a platform backup key is not 32 url-safe base64-encoded bytes (a Fernet key)")
        keys.append(_expand(master, b"certmate-backup-platform"))
    return keys


def _header_keys(header: dict[str, Any], passphrase: str | None) -> _Keys:
    if header.get("key") == "passphrase":
        if not passphrase:
            raise WrongKey("this archive is encrypted with a passphrase: give it (--passphrase-file, or passphrase)")
        try:
            salt = _unb64(header["salt"], "salt")
            n, r, p = (int(header[name]) for name in ("n", "r", "p"))
        except (KeyError, TypeError, ValueError):
            raise Tampered("the archive's header is damaged (key derivation)") from None
        if not (1 << 10 <= n <= 1 << 20 and 1 <= r <= 16 and 1 <= p <= 4):
            raise Tampered("the archive's header asks for key derivation parameters outside certmate's bounds")
        keys = _from_passphrase(passphrase, salt, n, r, p)
        if not hmac.compare_digest(keys.check_value(), str(header.get("check", ""))):
            raise WrongKey("wrong passphrase: this archive was encrypted with another one")
        return keys
    if header.get("key") == "platform":
        for keys in platform_keys():
            if keys.key_id == header.get("key_id"):
                if not hmac.compare_digest(keys.check_value(), str(header.get("check", ""))):
                    raise Tampered("the archive's header is damaged (key check)")
                return keys
        raise WrongKey(
            "this archive was encrypted with a platform key this installation does not have: put that key "
            "back into CERTMATE_BACKUP_KEYS (or CERTMATE_ENCRYPTION_KEYS, when no backup key was set then)"
        )
    raise Tampered("the archive's header names no known kind of key")


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file: what is written goes out encrypted to ``sink``; ``close()`` writes the last chunk."""

    def __init__(self, sink: IO[bytes], *, metadata: dict[str, Any], passphrase: str | None = None):
        self._sink = sink
        if passphrase is not None:
            salt = os.urandom(16)
            keys = _from_passphrase(passphrase, salt, **_SCRYPT)
            key_fields = {"key": "passphrase", "salt": _b64(salt), **_SCRYPT}
        else:
            keys = platform_keys()[0]
            key_fields = {"key": "platform", "key_id": keys.key_id}
        self._prefix = os.urandom(7)
        header = {"format": 1, "cipher": "AES-256-GCM", **key_fields, "check": keys.check_value()}
        header |= {"nonce_prefix": _b64(self._prefix), "chunk": CHUNK, "metadata": metadata}
        self._header = json.dumps(header, sort_keys=True).encode()
        if len(self._header) > _MAX_HEADER:
            raise BackupError("the archive's metadata is too large")
        self._aead = AESGCM(keys.encryption)
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        sink.write(MAGIC + _LENGTH.pack(len(self._header)) + self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, plaintext: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plaintext, self._header)
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    data = source.read(size)
    while data is not None and len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data or b""


def read_header(source: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    """The raw header and its fields (readable without any key: what the list of backups shows)."""
    if _read_exactly(source, len(MAGIC)) != MAGIC:
        raise BackupError("this is not a certmate backup (it does not start like one)")
    (length,) = _LENGTH.unpack(_read_exactly(source, _LENGTH.size) or b"\0\0\0\0")
    if not 0 < length <= _MAX_HEADER:
        raise Tampered("the archive's header is damaged (its length)")
    raw = _read_exactly(source, length)
    try:
        header = json.loads(raw)
    except ValueError:
        raise Tampered("the archive's header is damaged (not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != 1:
        raise BackupError("this backup has a format this version of certmate does not read")
    return raw, header


class DecryptingReader:
    """A read-only file over an archive: plaintext comes out only after its chunk was authenticated."""

    def __init__(self, source: IO[bytes], *, passphrase: str | None = None):
        self._source = source
        self._header_raw, self.header = read_header(source)
        self._aead = AESGCM(_header_keys(self.header, passphrase).encryption)
        self._prefix = _unb64(self.header.get("nonce_prefix"), "nonce")
        if len(self._prefix) != 7:
            raise Tampered("the archive's header is damaged (nonce)")
        self._counter = 0
        self._plain = b""  # the authenticated plaintext not read yet starts at self._at
        self._at = 0
        self._done = False

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.header.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    def _next_chunk(self) -> None:
        length_raw = _read_exactly(self._source, _LENGTH.size)
        if len(length_raw) < _LENGTH.size:
            raise Tampered("the archive is cut short: its last part is missing")
        (length,) = _LENGTH.unpack(length_raw)
        if length > CHUNK + 16:
            raise Tampered(f"the archive was changed (part {self._counter} has an impossible length)")
        sealed = _read_exactly(self._source, length)
        for last in (False, True):
            try:
                plain = self._aead.decrypt(_nonce(self._prefix, self._counter, last), sealed, self._header_raw)
            except InvalidTag:
                continue
            self._counter += 1
            self._plain, self._at = self._plain[self._at :] + plain, 0
            if last:
                self._done = True
                if self._source.read(1):
                    raise Tampered("the archive was changed: bytes follow its last part")
            return
        raise Tampered(f"the archive was changed or damaged (part {self._counter} does not authenticate)")

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) - self._at < size):
            self._next_chunk()
        end = len(self._plain) if size < 0 else min(len(self._plain), self._at + size)
        data, self._at = self._plain[self._at : end], end
        return data
