"""Reading from a CA on a tenant's behalf, outside certbot: its directory, its renewal information (ARI).

Every GET passes the platform egress rule (certmate.egress), trusts the CA account's own bundle on top of
the usual roots, follows no redirect, and is bounded in time (the whole exchange, not each byte) and in
size. What comes back is untrusted: callers judge its shape and never echo it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import certifi
import requests

from certmate import egress

TIMEOUT_SECONDS = 10.0


class FetchError(Exception):
    """The CA could not be read: ``message`` is one readable line naming the host, never the CA's text."""

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.message = message
        self.refused = refused  # the egress rule refused the destination (a setting to fix, not an outage)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes | None  # None: larger than the bound (the rest was never read)
    headers: Mapping[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def trust_file(trust_bundle: str) -> Iterator[str | bool]:
    """What ``verify`` takes: True (the usual roots), or a file of the usual roots plus the CA account's."""
    if not trust_bundle.strip():
        yield True
        return
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as bundle:
        bundle.write(Path(certifi.where()).read_text() + "\n" + trust_bundle)
        bundle.flush()
        yield bundle.name


def ca_get(url: str, *, trust_bundle: str = "", max_bytes: int, untrusted_hint: str = "") -> Answer:
    """GET ``url`` through the egress rule; FetchError when it cannot be had. ``untrusted_hint`` ends the
    message of a TLS failure (where to put the CA's root)."""
    host = urlsplit(url).hostname or "?"
    try:
        with trust_file(trust_bundle) as verify, egress.deadline(TIMEOUT_SECONDS), egress.session() as http:
            response = http.get(url, timeout=TIMEOUT_SECONDS, verify=verify, allow_redirects=False, stream=True)
            with response:
                return Answer(response.status_code, _read_bounded(response, max_bytes), dict(response.headers))
    except (egress.EgressRefused, requests.RequestException) as exc:
        refused = egress.refusal_in(exc)
        if refused is not None:
            raise FetchError(str(refused), refused=True) from None
        if isinstance(exc, requests.exceptions.SSLError):
            hint = f": {untrusted_hint}" if untrusted_hint else ""
            raise FetchError(f"SSL verification failed for {host}{hint}") from None
        if isinstance(exc, requests.exceptions.Timeout):
            raise FetchError(f"Connection timeout - the ACME endpoint at {host} did not answer") from None
        raise FetchError(f"Connection failed - the ACME endpoint at {host} is not accessible") from None


def _read_bounded(response: requests.Response, max_bytes: int) -> bytes | None:
    body = bytearray()
    for chunk in response.iter_content(16 * 1024):
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)
