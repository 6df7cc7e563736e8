"""CertMate's deployment status: is the host serving the certificate's current version? One TLS handshake
to the host (through the egress rule, bounded in time), the served certificate's SHA-256 fingerprint
compared with the current version's. The served certificate is untrusted: only its fingerprint and a
bounded, one-line subject are reported."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass

from cryptography import x509

from apps.certificates.untrusted import one_line
from certmate import egress

PROBE_SECONDS = 5.0
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Probe:
    reachable: bool
    fingerprint: str = ""  # SHA-256 hex of the served certificate
    subject: str = ""
    error: str = ""


def served_certificate(*, host: str, port: int, server_name: str) -> Probe:
    """The certificate ``host:port`` serves for ``server_name`` (SNI), verified by nobody: only compared."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with egress.deadline(PROBE_SECONDS):
            raw = egress.connect((host, port), timeout=PROBE_SECONDS)
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except egress.EgressRefused as exc:
        return Probe(False, error=str(exc))
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        return Probe(False, error=f"{host}:{port} could not be reached over TLS ({type(exc).__name__})")
    if not der:
        return Probe(False, error=f"{host}:{port} served no certificate")
    try:
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        subject = ""
    return Probe(True, hashlib.sha256(der).hexdigest(), one_line(subject)[:MAX_SUBJECT])
