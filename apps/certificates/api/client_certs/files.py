"""CertMate's client-certificate files: crt, csr, key, pfx (named ``<identifier>.<type>``). The key and
the PKCS#12 bundle go through the download service, which records each private-key download.

csr: CertMate keeps the CSR it makes for its own keys; certmate signs its keys directly and keeps no
CSR for them, so only a CSR-based certificate has one (else 404 saying so). A CSR is not rebuilt from
the stored key: that would use the private key for a viewer's download.

pfx: CertMate encrypts with the tenant's configured PFX password; certmate has no such setting and
takes the password per request in the X-PFX-Password header (never the URL: access logs keep URLs),
as /api/certificates downloads do. No password, no bundle: an unencrypted key is never handed out."""

from __future__ import annotations

from apps.certificates.api.views.base import token_delegator_of
from apps.certificates.api.views.downloads import PFX_PASSWORD_HEADER
from apps.certificates.models import Certificate
from apps.certificates.selectors import certificate_version
from apps.certificates.services.downloads import Download, DownloadRequest, certificate_download
from certmate.actors import request_actor
from certmate.api.exceptions import ApiError

FILE_TYPES = ("crt", "key", "csr", "pfx")
PRIVATE_FILE_TYPES = frozenset({"key", "pfx"})
MAX_PASSWORD = 1024
OCTETS = "application/octet-stream"

__all__ = ["FILE_TYPES", "PFX_PASSWORD_HEADER", "PRIVATE_FILE_TYPES", "client_file"]


def _pfx_password(request) -> str:
    if "password" in request.query_params:
        raise ApiError(
            f"send the PKCS#12 password in the {PFX_PASSWORD_HEADER} header: a URL ends up in access logs",
            "password_in_url",
        )
    password = request.headers.get(PFX_PASSWORD_HEADER, "")
    if not password.strip():
        raise ApiError(
            f"a PKCS#12 bundle needs a password: send it in the {PFX_PASSWORD_HEADER} header "
            "(an unencrypted private key bundle is never produced)",
            "pfx_password_required",
        )
    if len(password) > MAX_PASSWORD:
        raise ApiError(f"the PKCS#12 password is longer than {MAX_PASSWORD} characters", "invalid")
    return password


def client_file(certificate: Certificate, file_type: str, request) -> Download:
    """The file ``file_type`` of the certificate's current version (NotFound when there is none)."""
    name = f"{certificate.identifier}.{file_type}"
    if file_type == "csr":
        if not certificate.csr_pem:
            raise ApiError(
                f"File not found: {name}: certmate made this certificate's key itself and keeps no CSR for it "
                "(download crt, or key as an operator)",
                "not_found",
            )
        return Download(name, OCTETS, certificate.csr_pem.encode())
    version = certificate_version(certificate=certificate)
    if file_type == "crt":
        return Download(name, OCTETS, version.certificate_pem.encode())
    if not version.private_key:
        raise ApiError(
            f"File not found: {name}: the key stayed with the holder, who sent a CSR; certmate never had it",
            "not_found",
        )
    asked = (
        DownloadRequest(file="cert.pfx", password=_pfx_password(request))
        if file_type == "pfx"
        else DownloadRequest(file="privkey.pem")
    )
    download = certificate_download(
        version=version, request=asked, actor=request_actor(request), token_created_by=token_delegator_of(request)
    )
    return Download(name, download.content_type if file_type == "pfx" else OCTETS, download.content)
