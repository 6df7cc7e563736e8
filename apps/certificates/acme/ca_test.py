"""CertMate's CA provider test (POST /api/settings/test-ca-provider): checks a CA configuration before an
account is made from it. A preset is checked as CertMate does (e-mail, EAB where the CA needs it) without a
connection; a directory URL of the tenant's own (private_ca, custom) is fetched through the egress rule,
bounded in time and size, and only its shape and what it offers (profile names, ARI) are reported: its body
is never echoed."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from django.core.exceptions import ValidationError

from apps.certificates.acme.accounts import ca_directory_url
from apps.certificates.acme.directory import DirectoryError, directory_fetch
from apps.certificates.acme.models import CA_PRESETS

# CAs that need External Account Binding (CertMate's list; DigiCert also needs its own directory URL).
EAB_PRESETS = ("zerossl", "google", "google_staging", "sslcom", "actalis", "digicert")
OWN_URL = ("digicert", "private_ca", "custom")
MAX_CA_CERT_BYTES = 64 * 1024


class UnknownCaProvider(ValueError):
    """Neither a preset nor private_ca / custom: CertMate's 400 'Invalid CA provider type'."""


@dataclass(frozen=True)
class CaTestResult:
    success: bool
    message: str
    directory_url: str = ""
    profiles: dict[str, str] = field(default_factory=dict)  # a fetched directory's ACME profiles
    renewal_info_url: str = ""  # a fetched directory's ARI URL


def _text(config: dict, *names: str) -> str:
    for name in names:
        value = config.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def ca_provider_fetched(ca_provider: str) -> bool:
    """Whether the test reads the provider's directory (a URL of the tenant's own) rather than judging a preset."""
    return ca_provider in OWN_URL


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
    if ca_cert and not _is_pem_certificates(ca_cert):
        return CaTestResult(False, "CA certificate must be in PEM format", url)
    try:
        found = directory_fetch(url, trust_bundle=ca_cert, untrusted_hint="give its CA as ca_cert")
    except DirectoryError as exc:
        return CaTestResult(False, exc.message, url)
    # What an account made from it would offer; stored only by an account's own directory read.
    return CaTestResult(True, "ACME endpoint appears valid", url, found.profiles, found.renewal_info_url)


def _is_pem_certificates(text: str) -> bool:
    if len(text) > MAX_CA_CERT_BYTES:
        return False
    try:
        return bool(x509.load_pem_x509_certificates(text.encode()))
    except ValueError:
        return False
