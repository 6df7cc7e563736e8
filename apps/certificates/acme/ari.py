"""ACME Renewal Information (RFC 9773): a certificate's CertID, and the renewal window its CA suggests.

The window is remote JSON read through the egress rule (fetch.py): bounded, its times checked to be
RFC 3339 with a zone, in order, and within a sane distance of now; the CA's Retry-After is honoured
within bounds. Where in the window to renew is services/due.py's decision, with the threshold rule.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from cryptography import x509

from apps.certificates.acme.fetch import FetchError, ca_get

MAX_ANSWER_BYTES = 16 * 1024
# A window this far from now is a CA's mistake (or a lie), not a suggestion to follow.
MAX_DISTANCE = timedelta(days=10 * 366)
MAX_RETRY_AFTER = timedelta(days=1)  # a CA asking to wait longer is asked again a day later anyway


class AriError(Exception):
    """No window from the CA: ``message`` says why in one line (never the CA's own text)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RenewalWindow:
    start: datetime
    end: datetime
    retry_after: timedelta | None  # when the CA wants to be asked again (None: it did not say)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def cert_id(cert_pem: str) -> str:
    """The certificate's RFC 9773 CertID: base64url of its Authority Key Identifier's keyIdentifier, ".",
    base64url of the DER INTEGER content of its serial (two's complement, so a leading zero byte when the
    high bit is set), both unpadded. ValueError when it has no keyIdentifier to be named by."""
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        raise ValueError("the certificate has no Authority Key Identifier: ARI cannot name it") from None
    if not aki.key_identifier:
        raise ValueError("the certificate's Authority Key Identifier has no keyIdentifier: ARI cannot name it")
    serial = certificate.serial_number
    content = serial.to_bytes((~serial if serial < 0 else serial).bit_length() // 8 + 1, "big", signed=True)
    return f"{_b64(aki.key_identifier)}.{_b64(content)}"


def renewal_window_get(*, renewal_info_url: str, certificate_id: str, trust_bundle: str, now: datetime):
    """The CA's suggested window for the certificate ``certificate_id`` names; AriError when there is none."""
    try:
        answer = ca_get(f"{renewal_info_url}/{certificate_id}", trust_bundle=trust_bundle, max_bytes=MAX_ANSWER_BYTES)
    except FetchError as exc:
        raise AriError(exc.message) from None
    if answer.status == 404:
        raise AriError("the CA has no renewal information for this certificate (HTTP 404)")
    if answer.status != 200:
        raise AriError(f"the CA's renewal information answered HTTP {answer.status}")
    if answer.body is None:
        raise AriError(f"the CA's renewal information is larger than {MAX_ANSWER_BYTES // 1024} KiB")
    start, end = window_parse(answer.body, now=now)
    return RenewalWindow(start, end, retry_after_parse(answer.headers.get("Retry-After", ""), now=now))


def window_parse(body: bytes, *, now: datetime) -> tuple[datetime, datetime]:
    """suggestedWindow's start and end, checked; AriError naming what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # nested too deep for the parser: not a window either
        raise AriError("the CA's renewal information is not JSON") from None
    window = document.get("suggestedWindow") if isinstance(document, dict) else None
    if not isinstance(window, dict):
        raise AriError("the CA's renewal information has no suggestedWindow object")
    start, end = _timestamp(window.get("start"), "start"), _timestamp(window.get("end"), "end")
    if end <= start:
        raise AriError("the CA's suggested window ends before it starts")
    if start < now - MAX_DISTANCE or end > now + MAX_DISTANCE:
        raise AriError("the CA's suggested window is more than ten years away")
    return start, end


def _timestamp(value, name: str) -> datetime:
    # RFC 3339: a date, "T", a time and a zone; Python reads the rest (fractions of any length, "Z").
    if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
        raise AriError(f"the CA's suggested window {name} is not an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise AriError(f"the CA's suggested window {name} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise AriError(f"the CA's suggested window {name} has no time zone")
    return moment


def retry_after_parse(value: str, *, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date, at most MAX_RETRY_AFTER; None when absent or unreadable."""
    value = (value or "").strip()[:64]
    if not value:
        return None
    if value.isascii() and value.isdigit():
        delay = timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        delay = when - now
    return max(timedelta(0), min(delay, MAX_RETRY_AFTER))
