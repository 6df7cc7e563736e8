"""The material: the ZIP, JSON, single files, PKCS#12, and CertMate's /{domain}/tls. Public files (cert,
cert.der, chain, fullchain, ca) are a viewer's; anything holding the private key is an operator's, and
recorded."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.api.serializers import DownloadQuerySerializer, DownloadSerializer
from apps.certificates.api.views.base import CertificateAPIView, FilesNegotiation, token_delegator_of
from apps.certificates.models import Certificate, CertificateKind
from apps.certificates.selectors import certificate_version, client_certificate_get
from apps.certificates.services.downloads import (
    DER_TYPE,
    PEM_TYPE,
    PKCS12_TYPE,
    Download,
    DownloadRequest,
    certificate_download,
    safe_filename,
)
from apps.certificates.services.pkcs12 import Pkcs12Encryption
from certmate.actors import request_actor
from certmate.api.fields import IntegerField

PFX_PASSWORD_HEADER = "X-PFX-Password"  # noqa: S105 - a header name, not a password
# CertMate's path-style names: /api/certificates/{domain}/download/{file_type}
SHORT_NAMES = {
    "cert": "cert.pem",
    "der": "cert.der",
    "chain": "chain.pem",
    "ca": "ca.pem",
    "fullchain": "fullchain.pem",
    "privkey": "privkey.pem",
    "combined": "combined.pem",
    "pfx": "cert.pfx",
}

FILE_RESPONSES = {
    (200, "application/zip"): OpenApiTypes.BINARY,
    (200, PEM_TYPE): OpenApiTypes.BINARY,
    (200, DER_TYPE): OpenApiTypes.BINARY,
    (200, PKCS12_TYPE): OpenApiTypes.BINARY,
}
DownloadDocument = inline_serializer(
    "CertificateDownloadDocument",
    {
        "domain": serializers.CharField(help_text="The certificate's domain."),
        "version": IntegerField(help_text="The version's number."),
        "cert_pem": serializers.CharField(help_text="The certificate."),
        "chain_pem": serializers.CharField(help_text="The intermediates."),
        "fullchain_pem": serializers.CharField(help_text="Certificate and intermediates."),
        "private_key_pem": serializers.CharField(help_text="The private key (as stored, or PKCS#8 if asked)."),
        "private_key_pkcs1_pem": serializers.CharField(
            required=False, help_text="With key_format=pkcs1: the key in traditional OpenSSL form."
        ),
    },
)
PASSWORD_HEADER = OpenApiParameter(
    PFX_PASSWORD_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The PKCS#12 password for file=cert.pfx, required for it (or in a POST body; never in the URL, "
    "which logs keep).",
)
DOWNLOAD_DESCRIPTION = (
    "Default: a ZIP of cert.pem, chain.pem, fullchain.pem and privkey.pem. format=json gives them inline; "
    "file=... one file: cert.pem, cert.der (DER), chain.pem, fullchain.pem, ca.pem (the issuing CA's "
    "certificate and the issuers above it for a private CA's certificate; the chain for an ACME one), "
    "privkey.pem, combined.pem, cert.pfx (PKCS#12: a password required; pkcs12_encryption=modern, the default, "
    "or legacy). The private key (privkey.pem, combined.pem, cert.pfx, the ZIP, JSON) needs the operator role "
    "and each download of it is recorded; the public files and include_private=false are a viewer's. A "
    "certificate signed from a CSR has no key here: asking for one answers 409 no_private_key. kind=client: "
    "the path names a client certificate of the private CA (its name) instead of a domain."
)


def file_response(download: Download) -> HttpResponse:
    if download.document is not None:
        response = Response(download.document)
    else:
        response = HttpResponse(download.content, content_type=download.content_type)
        response["Content-Disposition"] = content_disposition_header(True, download.filename)
        response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


class CertificateDownloadView(CertificateAPIView):
    content_negotiation_class = FilesNegotiation
    serializer_class = DownloadSerializer  # what POST takes (OPTIONS describes it)

    def parameters(self, request) -> dict:
        """Query string, then the body, then the header for the password."""
        if "password" in request.query_params:
            raise ValidationError(
                {"password": [f"send the PKCS#12 password in the {PFX_PASSWORD_HEADER} header or a POST body: "
                              "a URL ends up in access logs"]},
                code="password_in_url",
            )  # fmt: skip
        params = {**request.query_params.dict(), **(request.data if isinstance(request.data, dict) else {})}
        if "file_type" in self.kwargs:
            params["file"] = SHORT_NAMES.get(self.kwargs["file_type"], self.kwargs["file_type"])
        if PFX_PASSWORD_HEADER in request.headers and "password" not in params:
            params["password"] = request.headers[PFX_PASSWORD_HEADER]
        return params

    def download_request(self, request) -> tuple[DownloadRequest, int | None, str]:
        # Read once per request: the role check needs it before the download does.
        if getattr(self, "_asked", None) is None:
            self._asked = self._parse(request)
        return self._asked

    def _parse(self, request) -> tuple[DownloadRequest, int | None, str]:
        data = self.validated(DownloadSerializer, self.parameters(request))
        asked = DownloadRequest(
            file=data.get("file"),
            json=data["format"] == "json" and not data.get("file"),
            include_private=data["include_private"],
            key_format=data.get("key_format"),
            password=data.get("password") or None,
            pkcs12_encryption=data.get("pkcs12_encryption") or Pkcs12Encryption.MODERN,
        )
        return asked, data.get("version"), data["kind"]

    def certificate_of_kind(self, kind: str) -> Certificate:
        if kind == CertificateKind.CLIENT:
            return self.certificate_in_scope(client_certificate_get(identifier=self.kwargs["domain"]))
        return self.get_certificate()

    def required_role(self, request) -> Role:
        if request.method == "OPTIONS":
            return Role.VIEWER  # describes the endpoint, hands nothing out
        try:
            asked, _, _ = self.download_request(request)
        except ValidationError:
            return Role.VIEWER  # the view answers 400; nothing is handed out
        return Role.OPERATOR if asked.holds_key else Role.VIEWER

    def download(self, request) -> HttpResponse:
        asked, number, kind = self.download_request(request)
        certificate = self.certificate_of_kind(kind)
        version = certificate_version(certificate=certificate, number=number)
        download = certificate_download(
            version=version,
            request=asked,
            actor=request_actor(request),
            token_created_by=token_delegator_of(request),
        )
        return file_response(download)

    @extend_schema(
        operation_id="certificates_download",
        tags=["downloads"],
        parameters=[DownloadQuerySerializer, PASSWORD_HEADER],
        responses={**FILE_RESPONSES, (200, "application/json"): DownloadDocument},
        description=DOWNLOAD_DESCRIPTION,
    )
    def get(self, request, domain):
        return self.download(request)

    @extend_schema(
        operation_id="certificates_download_post",
        tags=["downloads"],
        request=DownloadSerializer,
        responses={**FILE_RESPONSES, (200, "application/json"): DownloadDocument},
        description=DOWNLOAD_DESCRIPTION + " POST takes the same parameters in its body (keeps a PKCS#12 "
        "password out of URLs and logs).",
    )
    def post(self, request, domain):
        return self.download(request)


class CertificateFileView(CertificateDownloadView):
    @extend_schema(
        operation_id="certificates_download_file",
        tags=["downloads"],
        parameters=[
            OpenApiParameter(
                "file_type",
                location=OpenApiParameter.PATH,
                enum=sorted(SHORT_NAMES),
                description="cert, der, chain, fullchain, ca (viewer); privkey, combined, pfx (operator).",
            ),
            PASSWORD_HEADER,
        ],
        responses={key: value for key, value in FILE_RESPONSES.items() if key[1] != "application/zip"},
        description="CertMate's path form of ?file=.",
    )
    def get(self, request, domain, file_type):
        if file_type not in SHORT_NAMES:
            raise ValidationError({"file_type": [f"use one of {', '.join(sorted(SHORT_NAMES))}"]}, code="invalid")
        return self.download(request)

    http_method_names = ["get", "head", "options"]  # the path form is GET only


class TlsView(CertificateAPIView):
    content_negotiation_class = FilesNegotiation

    @extend_schema(
        operation_id="certificate_tls",
        tags=["downloads"],
        responses={(200, PEM_TYPE): OpenApiTypes.BINARY},
        description="CertMate's direct download: the current version's full chain (certificate and "
        "intermediates) as PEM.",
    )
    def get(self, request, domain):
        certificate = self.get_certificate()
        version = certificate_version(certificate=certificate)
        filename = f"{safe_filename(certificate.identifier)}_fullchain.pem"
        return file_response(Download(filename, PEM_TYPE, version.fullchain_pem.encode()))
