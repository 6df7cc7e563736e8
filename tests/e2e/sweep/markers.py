"""Marker secrets and a scanner that finds them (or their encoded forms) in any text certmate hands out.

    scanner = MarkerScanner()
    token = scanner.secret("vault token", "vault")        # a new random marker value, registered
    scanner.add("EAB key", some_existing_value)           # or register a value made elsewhere
    leaks = scanner.scan("GET /api/storage", response.content)

A secret is looked for as it is and as a leak would carry it: percent- and form-encoded, JSON-escaped,
hex, and base64 (standard and URL-safe) at any of the three byte alignments, so a secret inside a larger
base64 blob (a basic-auth header, a base64 JSON document) is found too. Private keys are found by their
PEM lines and their private numbers. A report never shows a secret: each finding gives where, which
secret and in what form, and 40 characters either side with every secret in them masked.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PREFIX = "SWEEPLEAK"  # in every marker value, so a stray one is recognisable in any dump by eye
CONTEXT = 40
SHORTEST = 12  # shorter forms would match by chance in megabytes of ciphertext
BASE64_ALPHABET = string.ascii_letters + string.digits + "+/"
URLSAFE_ALPHABET = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class Leak:
    where: str
    secret: str  # the secret's label, never its value
    form: str
    context: str

    def __str__(self) -> str:
        return f"{self.where}: {self.secret} ({self.form}) in …{self.context}…"


@dataclass(frozen=True)
class _Needle:
    text: str
    label: str
    form: str
    kind: str


def _base64_inside(data: bytes, *, urlsafe: bool) -> list[tuple[str, str]]:
    """The characters base64 gives ``data`` wherever it sits in a longer input (offset 0, 1 or 2 in its
    3-byte group): only the characters that depend on ``data`` alone."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    name = "base64url" if urlsafe else "base64"
    forms = []
    for offset in range(3):
        text = encode(b"\0" * offset + data).decode()
        first = -(-offset * 4 // 3)  # characters that mix in the bytes before
        last = (offset + len(data)) * 8 // 6  # characters made of data only end here
        forms.append((text[first:last], f"{name} at offset {offset}"))
    return forms


def _text_forms(value: str) -> list[tuple[str, str]]:
    raw = value.encode()
    forms = [
        (value, "plain"),
        (quote(value, safe=""), "percent-encoded"),
        (quote_plus(value), "form-encoded"),
        (json.dumps(value)[1:-1], "JSON-escaped"),
        (raw.hex(), "hex"),
        (raw.hex().upper(), "HEX"),
    ]
    forms += _base64_inside(raw, urlsafe=False) + _base64_inside(raw, urlsafe=True)
    return forms


def _number_forms(number: int, size: int) -> list[tuple[str, str]]:
    raw = number.to_bytes(size, "big")
    forms = [(str(number), "decimal"), (raw.hex(), "hex"), (raw.hex().upper(), "HEX")]
    return forms + _base64_inside(raw, urlsafe=False) + _base64_inside(raw, urlsafe=True)


def _private_numbers(key) -> list[tuple[str, int, int]]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return [("private scalar", key.private_numbers().private_value, (key.curve.key_size + 7) // 8)]
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        size = (key.key_size + 7) // 8
        parts = {"d": numbers.d, "p": numbers.p, "q": numbers.q}
        parts.update({"dp": numbers.dmp1, "dq": numbers.dmq1, "qi": numbers.iqmp})
        return [(name, value, size if name == "d" else size // 2) for name, value in parts.items()]
    raise TypeError(f"no private numbers known for {type(key).__name__}")


def _pem_lines(key) -> list[tuple[str, str]]:
    """Full 64-character body lines of the key in every PEM form it is handed out in."""
    lines = []
    formats = {
        "PKCS#8": serialization.PrivateFormat.PKCS8,
        "PKCS#1/SEC1": serialization.PrivateFormat.TraditionalOpenSSL,
    }
    for name, fmt in formats.items():
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
        body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
        lines += [(line, f"{name} PEM line {n}") for n, line in enumerate(body, 1) if len(line) == 64]
    return lines


class MarkerScanner:
    def __init__(self) -> None:
        self._needles: list[_Needle] = []
        self.labels: dict[str, str] = {}  # label -> kind

    # -- registering ----------------------------------------------------------------------------------

    def secret(
        self, label: str, kind: str, *, alphabet: str = string.ascii_letters + string.digits, extra="", upper=False
    ) -> str:
        """A new marker: PREFIX, the label's letters, then 24 random characters of ``alphabet``, then
        ``extra`` (characters a leak would encode differently, e.g. "+/ &"); all upper-case with ``upper``
        (for formats that want it). Registered under ``label``."""
        tag = "".join(ch for ch in label.title() if ch.isalnum())[:12]
        value = PREFIX + tag + "".join(secrets.choice(alphabet) for _ in range(24)) + extra
        value = value.upper() if upper else value
        self.add(label, value, kind=kind)
        return value

    def base64_secret(self, label: str, kind: str, *, urlsafe: bool = False) -> str:
        """A marker that is valid base64 of random bytes (TSIG secrets, EAB HMAC keys): starts with
        PREFIX and the label's letters, padded to a whole 4-character group, then 24 random bytes."""
        alphabet = URLSAFE_ALPHABET if urlsafe else BASE64_ALPHABET
        tag = PREFIX + "".join(ch for ch in label.title() if ch in alphabet)
        tag += "A" * (-len(tag) % 4)
        encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
        value = tag + encode(secrets.token_bytes(24)).decode()
        self.add(label, value, kind=kind)
        return value

    def add(self, label: str, value: str, *, kind: str = "secret") -> None:
        if len(value) < SHORTEST:
            raise ValueError(f"{label}: a marker shorter than {SHORTEST} characters would match by chance")
        self._register(label, kind, _text_forms(value))

    def add_private_key(self, label: str, pem: str | bytes, *, kind: str = "private key") -> None:
        """A private key: found by its PEM lines (PKCS#8 and traditional) and its private numbers."""
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
        self.add_private_key_object(label, key, kind=kind)

    def add_private_key_object(self, label: str, key, *, kind: str = "private key") -> None:
        forms = _pem_lines(key)
        for name, number, size in _private_numbers(key):
            forms += [(text, f"{name} as {form}") for text, form in _number_forms(number, size)]
        self._register(label, kind, forms)

    def _register(self, label: str, kind: str, forms: list[tuple[str, str]]) -> None:
        self.labels[label] = kind
        seen = {needle.text for needle in self._needles if needle.label == label}
        for text, form in forms:
            if len(text) >= SHORTEST and text not in seen:
                seen.add(text)
                self._needles.append(_Needle(text, label, form, kind))

    # -- scanning -------------------------------------------------------------------------------------

    def scan(self, where: str, content: str | bytes, *, allowed_kinds: frozenset[str] = frozenset()) -> list[Leak]:
        """Every registered secret found in ``content``, except those of ``allowed_kinds`` (e.g. the
        private keys on a key-download endpoint). At most one finding per secret and form."""
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        leaks = []
        for needle in self._needles:
            if needle.kind in allowed_kinds:
                continue
            at = text.find(needle.text)
            if at >= 0:
                leaks.append(Leak(where, needle.label, needle.form, self._masked(text, at, at + len(needle.text))))
        return leaks

    def found(self, content: str | bytes, label: str) -> bool:
        """Whether the secret ``label`` is in ``content`` in any form (for checks that it is where it must be)."""
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        return any(needle.label == label and needle.text in text for needle in self._needles)

    def mask(self, content: str | bytes) -> str:
        """``content`` with every secret replaced by [secret], for messages that quote an answer."""
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        for needle in sorted(self._needles, key=lambda needle: len(needle.text), reverse=True):
            text = text.replace(needle.text, "[secret]")
        return text

    def _masked(self, text: str, start: int, end: int) -> str:
        """The finding with CONTEXT characters either side, every secret (even cut off at the edges)
        replaced by its label."""
        longest = max(len(needle.text) for needle in self._needles)
        low, high = max(0, start - CONTEXT - longest), min(len(text), end + CONTEXT + longest)
        window = text[low:high]
        hidden = [False] * len(window)
        for needle in self._needles:
            at = window.find(needle.text)
            while at >= 0:
                hidden[at : at + len(needle.text)] = [True] * len(needle.text)
                at = window.find(needle.text, at + 1)
        shown, masking = [], False
        for index in range(start - low - CONTEXT, end - low + CONTEXT):
            if not 0 <= index < len(window):
                continue
            if hidden[index]:
                if not masking:
                    shown.append("[secret]")
                masking = True
            else:
                shown.append(window[index])
                masking = False
        return "".join(shown).replace("\n", "⏎")


def leak_report(leaks: list[Leak], limit: int = 40) -> str:
    lines = [str(leak) for leak in leaks[:limit]]
    if len(leaks) > limit:
        lines.append(f"… and {len(leaks) - limit} more")
    return f"{len(leaks)} leak(s):\n" + "\n".join(lines)
