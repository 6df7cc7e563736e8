"""Where relying parties reach a tenant's public PKI: its CRLs, its OCSP responder, its CA certificates.
Issued certificates carry these URLs (CRL Distribution Points, Authority Information Access), so they
are fixed when a certificate is signed: the tenant's ``public_base_url`` (for deployments behind a
proxy) or https://<its primary domain>."""

from __future__ import annotations

from urllib.parse import quote

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID
from django.db import connection

from apps.certificates.models import CertificateAuthority, TenantSettings

CRL_PATH = "/pki/{ca}/crl.der"
CA_CERTIFICATE_PATH = "/pki/{ca}/ca.der"
OCSP_PATH = "/pki/ocsp"


def pki_base_url() -> str:
    """The current tenant's public base URL, without a trailing slash."""
    configured = TenantSettings.load().public_base_url
    if configured:
        return configured.rstrip("/")
    return f"https://{_primary_domain(getattr(connection, 'tenant', None)) or 'localhost'}"


def _primary_domain(tenant) -> str | None:
    """The tenant's primary domain, read once per tenant object: a request's, or a job's for all it signs
    (a batch of 10,000 certificates asks 10,000 times)."""
    domains = getattr(tenant, "domains", None)
    if domains is None:
        return None
    if not hasattr(tenant, "_pki_primary_domain"):
        tenant._pki_primary_domain = domains.filter(is_primary=True).values_list("domain", flat=True).first()
    return tenant._pki_primary_domain


def _ca_segment(authority: CertificateAuthority) -> str:
    return quote(authority.name, safe="")


def crl_url(authority: CertificateAuthority, base: str | None = None) -> str:
    return (base or pki_base_url()) + CRL_PATH.format(ca=_ca_segment(authority))


def ca_certificate_url(authority: CertificateAuthority, base: str | None = None) -> str:
    return (base or pki_base_url()) + CA_CERTIFICATE_PATH.format(ca=_ca_segment(authority))


def ocsp_url(base: str | None = None) -> str:
    return (base or pki_base_url()) + OCSP_PATH


def revocation_extensions(
    authority: CertificateAuthority, *, ocsp: bool = True, base: str | None = None
) -> list[x509.ExtensionType]:
    """The CRL Distribution Points and Authority Information Access (OCSP, caIssuers) a certificate
    ``authority`` signs carries, both non-critical."""
    base = base or pki_base_url()
    points = x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url(authority, base))], None, None, None)]
    )
    access = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(ca_certificate_url(authority, base)),
        )
    ]
    if ocsp:
        access.insert(0, x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                                x509.UniformResourceIdentifier(ocsp_url(base))))  # fmt: skip
    return [points, x509.AuthorityInformationAccess(access)]
