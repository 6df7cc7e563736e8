"""CertMate's CA provider test (POST /api/settings/test-ca-provider): checks a CA configuration before an
account is made from it. A preset is checked as CertMate does (e-mail, EAB where the CA needs it) without a
connection; a directory URL of the tenant's own (private_ca, custom) is fetched through the egress rule,
bounded in time and size, and only its shape is reported (its body is never echoed)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography import x509
from django.core.exceptions import ValidationError

from apps.certificates.acme.accounts import ca_directory_url
from apps.certificates.acme.models import CA_PRESETS
from certmate import egress

# CAs that need External Account Binding (CertMate's list; DigiCert also needs its own directory URL).
EAB_PRESETS = ("zerossl", "google", "google_staging", "sslcom", "actalis", "digicert")
OWN_URL = ("digicert", "private_ca", "custom")
TIMEOUT_SECONDS = 10.0
MAX_DIRECTORY_BYTES = 64 * 1024
MAX_CA_CERT_BYTES = 64 * 1024
DIRECTORY_KEYS = ("newNonce", "newAccount", "newOrder")


class UnknownCaProvider(ValueError):
    """Neither a preset nor private_ca / custom: CertMate's 400 'Invalid CA provider type'."""


@dataclass(frozen=True)
class CaTestResult:
    success: bool
    message: str
    directory_url: str = ""


def _text(config: dict, *names: str) -> str:
    for name in names:
        value = config.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def ca_provider_test(*, ca_provider: str, config: dict) -> CaTestResult:
    """What CertMate's test says of this configuration; UnknownCaProvider for an unknown provider."""
    if ca_provider not in CA_PRESETS and ca_provider not in OWN_URL:
        raise UnknownCaProvider(ca_provider)
    label = CA_PRESETS[ca_provider][0] if ca_provider in CA_PRESETS else "Private CA"
    url = _text(config, "acme_url", "directory_url")
    if ca_provider in OWN_URL and not url:
        return CaTestResult(False, f"ACME URL is required for {label}")
    if not _text(config, "email"):
        return CaTestResult(False, f"Email is required for {label}")
    if ca_provider in EAB_PRESETS and not (
        _text(config, "eab_kid", "eab_key_id") and _text(config, "eab_hmac", "eab_hmac_key")
    ):
        return CaTestResult(False, f"EAB credentials (Key ID and HMAC Key) are required for {label}")
    if ca_provider in CA_PRESETS and ca_provider != "digicert":
        return CaTestResult(True, f"{label} configuration appears valid", CA_PRESETS[ca_provider][1])
    try:
        url = ca_directory_url(url)
    except ValidationError as exc:
        return CaTestResult(False, exc.messages[0])
    return _fetch_directory(url, _text(config, "ca_cert", "trust_bundle"))


def _fetch_directory(url: str, ca_cert: str) -> CaTestResult:
    host = urlsplit(url).hostname or "?"
    if ca_cert and not _is_pem_certificates(ca_cert):
        return CaTestResult(False, "CA certificate must be in PEM format", url)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as bundle:
        if ca_cert:
            bundle.write(ca_cert)
            bundle.flush()
        try:
            with egress.deadline(TIMEOUT_SECONDS), egress.session() as http:
                response = http.get(
                    url,
                    timeout=TIMEOUT_SECONDS,
                    verify=bundle.name if ca_cert else True,
                    allow_redirects=False,
                    stream=True,
                )
                with response:
                    body = _read_bounded(response)
        except (egress.EgressRefused, requests.RequestException) as exc:
            refused = egress.refusal_in(exc)
            if refused is not None:
                return CaTestResult(False, str(refused), url)
            if isinstance(exc, requests.exceptions.SSLError):
                return CaTestResult(False, f"SSL verification failed for {host}: give its CA as ca_cert", url)
            if isinstance(exc, requests.exceptions.Timeout):
                return CaTestResult(False, f"Connection timeout - the ACME endpoint at {host} did not answer", url)
            return CaTestResult(False, f"Connection failed - the ACME endpoint at {host} is not accessible", url)
    if response.status_code != 200:
        return CaTestResult(False, f"ACME endpoint returned HTTP {response.status_code}", url)
    if body is None:
        return CaTestResult(
            False, f"Endpoint answered more than {MAX_DIRECTORY_BYTES // 1024} KiB: not a directory", url
        )
    try:
        directory = json.loads(body)
    except ValueError:
        return CaTestResult(False, "Endpoint is accessible but returned invalid JSON", url)
    if not isinstance(directory, dict) or not all(isinstance(directory.get(key), str) for key in DIRECTORY_KEYS):
        return CaTestResult(False, "Endpoint does not appear to be a valid ACME directory", url)
    return CaTestResult(True, "ACME endpoint appears valid", url)


def _is_pem_certificates(text: str) -> bool:
    if len(text) > MAX_CA_CERT_BYTES:
        return False
    try:
        return bool(x509.load_pem_x509_certificates(text.encode()))
    except ValueError:
        return False


def _read_bounded(response: requests.Response) -> bytes | None:
    """The body, or None past MAX_DIRECTORY_BYTES (the rest is never read)."""
    body = bytearray()
    for chunk in response.iter_content(16 * 1024):
        body += chunk
        if len(body) > MAX_DIRECTORY_BYTES:
            return None
    return bytes(body)
