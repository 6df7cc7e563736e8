"""Private certificates issued through the real service for download and storage tests: one with a
server-side key, one signed from a CSR (its key stays here, with the test)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateProfile
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from tests.factories import TEST_ACTOR


def csr_make(common_name: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def private_issue(tenant, *, ca: str, profile: str, name: str, kind: str = "client", csr_pem: str | None = None,
                  alt_names: list[str] | None = None) -> Certificate:  # fmt: skip
    """Issue ``name`` from the tenant's CA ``ca`` with ``profile``: a server-side key, or ``csr_pem``'s."""
    with tenant_context(tenant):
        request = PrivateRequest(
            profile=CertificateProfile.objects.get(authority__name=ca, name=profile),
            kind=kind,
            name=name,
            subject=None if csr_pem else {"common_name": name},
            alt_names=alt_names,
            csr_pem=csr_pem,
        )
        return private_certificate_issue(request, actor=TEST_ACTOR)
