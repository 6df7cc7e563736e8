"""Certificate signing requests a tenant sends: bounded, parsed, their signature verified. Only the
subject fields, SANs and public key are read from one; every other extension it asks for (CA:TRUE,
key usages) is ignored, since the profile alone decides what is granted."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from django.core.exceptions import ValidationError

from apps.certificates.pki.names import alt_names_from_csr, subject_from_x509

MAX_CSR_BYTES = 16 * 1024


@dataclass(frozen=True)
class CsrRequest:
    pem: str
    public_key: object
    subject: dict[str, str]
    alt_names: list[str]


def csr_parse(text: str) -> CsrRequest:
    """A PEM CSR, or a ValidationError (code ``invalid_csr``) saying what is wrong with it."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("the CSR is empty: send it in PEM form", code="invalid_csr")
    if len(text.encode()) > MAX_CSR_BYTES:
        raise ValidationError(f"the CSR is larger than {MAX_CSR_BYTES} bytes", code="invalid_csr")
    try:
        csr = x509.load_pem_x509_csr(text.strip().encode())
    except ValueError:
        raise ValidationError(
            "the CSR cannot be read: send one PEM block, -----BEGIN CERTIFICATE REQUEST-----", code="invalid_csr"
        ) from None
    try:
        valid = csr.is_signature_valid
    except Exception:  # an algorithm cryptography cannot check
        valid = False
    if not valid:
        raise ValidationError("the CSR's signature does not verify: it was altered or not signed by its key",
                              code="invalid_csr")  # fmt: skip
    try:
        public_key = csr.public_key()
    except ValueError:
        raise ValidationError("the CSR's public key is of a kind certmate does not sign", code="invalid_csr") from None
    return CsrRequest(
        pem=text.strip() + "\n",
        public_key=public_key,
        subject=subject_from_x509(csr.subject),
        alt_names=alt_names_from_csr(csr),
    )
