"""What the path-like secret stores (Vault, AWS Secrets Manager) share: one secret per certificate,
named ``<prefix>/<tenant>/<kind>/<escaped identifier>`` and holding the bundle's files as a mapping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from apps.accounts.validators import SLUG_RE
from apps.storage.backends.base import KINDS, Bundle, StorageError
from apps.storage.naming import unescape


def tenant_folder(prefix: str, tenant: str) -> str:
    """``<prefix>/<tenant>``: everything of one tenant lives below it (secret_name's first parts)."""
    if not SLUG_RE.fullmatch(tenant):
        # A slash or dots would let one tenant's names reach into another tenant's folder.
        raise StorageError(f"tenant {tenant!r} cannot name a secret folder", transient=False)
    return "/".join([*(part for part in prefix.strip("/").split("/") if part), tenant])


def parse_secret_name(folder: str, name: str) -> tuple[str, str] | None:
    """(kind, identifier) of a secret name below ``folder``, or None for a name CertMate did not make."""
    rest = name.removeprefix(f"{folder}/")
    if rest == name:
        return None
    kind, _, escaped = rest.partition("/")
    if kind not in KINDS:
        return None
    try:
        return kind, unescape(escaped)
    except ValueError:
        return None


def bundle_from_secret(kind: str, identifier: str, files: Mapping[str, Any]) -> Bundle:
    """The bundle a secret holds; a secret someone edited into non-text values is reported, not guessed at."""
    if not all(isinstance(text, str) for text in files.values()):
        raise StorageError(f"{kind}/{identifier} holds values that are not text", transient=False)
    try:
        return Bundle.from_files(kind=kind, identifier=identifier, files=files)
    except (ValueError, TypeError) as error:  # metadata.json that is not JSON, or a version that is no number
        raise StorageError(f"{kind}/{identifier} has an unreadable metadata.json: {error}", transient=False) from None


def encode_files(bundle: Bundle) -> str:
    return json.dumps(bundle.files(), sort_keys=True)


def decode_files(kind: str, identifier: str, text: str) -> dict[str, Any]:
    try:
        files = json.loads(text)
    except ValueError:
        files = None
    if not isinstance(files, dict):
        raise StorageError(f"{kind}/{identifier} is not a JSON object of files", transient=False)
    return files


def bundle_from_text(kind: str, identifier: str, text: str) -> Bundle:
    """The bundle a secret's text value (JSON of its files) holds; StorageError when it holds none."""
    return bundle_from_secret(kind, identifier, decode_files(kind, identifier, text))


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every credential in ``secrets`` blanked: servers sometimes echo what they refused."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


REMOTE_SUMMARY_MAX = 120


def remote_summary(text: str, secrets: Iterable[str | None] = ()) -> str:
    """A service's own error message (from its structured answer, never a raw body) cut to one short line,
    credentials blanked: enough to say what went wrong, too little to read another service's page out."""
    line = " ".join(str(text or "").split())
    line = "".join(char for char in line if char.isprintable())
    line = scrub(line, secrets)
    return line if len(line) <= REMOTE_SUMMARY_MAX else line[: REMOTE_SUMMARY_MAX - 1] + "…"
