"""Encryption at rest for every secret certmate stores.

Keys come from ``CERTMATE_ENCRYPTION_KEYS`` (comma-separated Fernet keys). The first key encrypts;
every key decrypts, so a new key is put first, secrets are rotated (``manage.py secrets rotate``),
and only then is the old key removed.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

PREFIX = "enc1:"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def parse_keys(raw_keys: list[str], *, source: str = "CERTMATE_ENCRYPTION_KEYS") -> list[Fernet]:
    if not raw_keys:
        raise ImproperlyConfigured(
            f"{source} is empty: set at least one key (generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        )
    fernets = []
    for position, key in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{source}: key #{position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return fernets


@lru_cache(maxsize=1)
def _keyring() -> tuple[MultiFernet, Fernet]:
    from django.conf import settings

    fernets = parse_keys(list(settings.CERTMATE_ENCRYPTION_KEYS))
    return MultiFernet(fernets), fernets[0]


def _reset_keyring(*, setting: str, **kwargs) -> None:
    if setting == "CERTMATE_ENCRYPTION_KEYS":
        _keyring.cache_clear()


setting_changed.connect(_reset_keyring)


def encrypt(plaintext: str) -> str:
    multi, _ = _keyring()
    return PREFIX + multi.encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    multi, _ = _keyring()
    try:
        return multi.decrypt(_token(stored)).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be decrypted with any key in CERTMATE_ENCRYPTION_KEYS: "
            "add the key it was encrypted with back to the list"
        ) from None


def rotate(stored: str) -> str:
    """The same secret encrypted with the first key (decrypted with whichever key opens it)."""
    multi, _ = _keyring()
    try:
        return PREFIX + multi.rotate(_token(stored)).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be decrypted with any key in CERTMATE_ENCRYPTION_KEYS: "
            "add the key it was encrypted with back to the list"
        ) from None


def is_current(stored: str) -> bool:
    """True when ``stored`` is already encrypted with the first (newest) key."""
    _, primary = _keyring()
    try:
        primary.decrypt(_token(stored))
    except InvalidToken:
        return False
    return True


def _token(stored: str) -> bytes:
    if not stored.startswith(PREFIX):
        raise DecryptionError("a stored secret is not in certmate's encrypted format")
    return stored[len(PREFIX) :].encode()
