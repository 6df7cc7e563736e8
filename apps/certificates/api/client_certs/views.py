"""CertMate's /api/client-certs endpoints: viewers read (metadata, certificate, CSR, statistics),
operators create, renew, batch and download the private key (key, pfx: recorded); revoking is an
admin's."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.api.client_certs import serializers as shapes
from apps.certificates.api.client_certs.documents import (
    client_certificate_get,
    client_certificates,
    client_certificates_filtered,
    client_metadata,
    client_statistics,
)
from apps.certificates.api.client_certs.files import FILE_TYPES, PFX_PASSWORD_HEADER, PRIVATE_FILE_TYPES, client_file
from apps.certificates.api.client_certs.issuing import client_certificate_create, client_certificates_batch
from apps.certificates.api.client_certs.revoking import client_certificate_revoke
from apps.certificates.api.views.base import FilesNegotiation
from apps.certificates.api.views.downloads import file_response
from apps.certificates.models import Certificate, TenantSettings
from apps.certificates.pki.renewal import private_certificate_csr_renew, private_certificate_renew_now
from certmate.actors import request_actor
from certmate.api.exceptions import ApiError
from certmate.api.views import TenantAPIMixin

TAGS = ["client certificates"]
# CertMate's answer for a CSR-based certificate it cannot renew alone; certmate adds the way out.
CSR_RENEW_REFUSED = (
    "This certificate was issued from a client-supplied CSR, so it cannot be renewed server-side: CertMate "
    'does not hold the private key. Ask the holder for a fresh CSR and send it here as {"csr": "..."}.'
)
PATH_PARAMETERS = {
    "identifier": OpenApiParameter(
        "identifier", location=OpenApiParameter.PATH, description="The client certificate's identifier."
    ),
    "file_type": OpenApiParameter(
        "file_type",
        location=OpenApiParameter.PATH,
        enum=list(FILE_TYPES),
        description="crt, csr (viewer); key, pfx (operator; pfx needs the X-PFX-Password header).",
    ),
}


class ClientCertSchema(AutoSchema):
    def get_override_parameters(self):
        described = [parameter for name, parameter in PATH_PARAMETERS.items() if f"{{{name}}}" in self.path]
        return [*described, *super().get_override_parameters()]


class ClientCertAPIView(TenantAPIMixin, GenericAPIView):
    schema = ClientCertSchema()
    serializer_class = serializers.Serializer
    scoped_tokens = True  # a scoped token sees the client certificates its scope names, as it does server ones

    def get_client_certificate(self) -> Certificate:
        certificate = client_certificate_get(self.kwargs["identifier"])
        self.scope_check(certificate.identifier, f"Certificate not found: {certificate.identifier}")
        return certificate


def created(certificate: Certificate) -> Response:
    return Response(
        {"identifier": certificate.identifier, "metadata": client_metadata(certificate)}, status=status.HTTP_201_CREATED
    )


class ListQuerySerializer(serializers.Serializer):
    usage = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="vpn, api-mtls, ...")
    revoked = serializers.CharField(
        required=False, allow_blank=True, max_length=10, help_text="true: revoked only; anything else: not revoked."
    )
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of the common name, e-mail or identifier."
    )


class ClientCertificateListView(ClientCertAPIView):
    @extend_schema(
        operation_id="client_certs_list",
        tags=TAGS,
        parameters=[ListQuerySerializer],
        responses=shapes.ClientCertificateListSerializer,
        description="CertMate's list: every client certificate's metadata, newest first, with its filters.",
    )
    def get(self, request):
        query = self.validated(ListQuerySerializer, request.query_params)
        revoked = query.get("revoked") or None
        rows = client_certificates_filtered(
            usage=query.get("usage", ""),
            revoked=None if revoked is None else revoked.lower() == "true",
            search=query.get("search", ""),
        )
        rows = self.in_scope(rows)
        threshold = TenantSettings.load().renewal_threshold_days
        documents = [client_metadata(row, threshold_days=threshold) for row in rows]
        return Response({"certificates": documents, "total": len(documents)})


class ClientCertificateCreateView(ClientCertAPIView):
    serializer_class = shapes.ClientCertificateCreateSerializer
    scoped_tokens = False  # certmate names the new certificate (common name + suffix): no scope can hold it

    @extend_schema(
        operation_id="client_certs_create",
        tags=TAGS,
        request=shapes.ClientCertificateCreateSerializer,
        responses={201: shapes.ClientCertificateCreatedSerializer},
        description="Issues at once from the tenant's default CA with its client profile (a tenant without a CA "
        "gets a default hierarchy on first use).",
    )
    def post(self, request):
        data = self.validated(shapes.ClientCertificateCreateSerializer)
        return created(client_certificate_create(data=data, actor=request_actor(request)))


class ClientCertificateDetailView(ClientCertAPIView):
    @extend_schema(
        operation_id="client_certs_retrieve",
        tags=TAGS,
        responses=shapes.ClientCertificateMetadataSerializer,
        description="The certificate's metadata.",
    )
    def get(self, request, identifier):
        return Response(client_metadata(self.get_client_certificate()))


class ClientCertificateFileView(ClientCertAPIView):
    content_negotiation_class = FilesNegotiation

    def required_role(self, request) -> Role:
        return Role.OPERATOR if self.kwargs.get("file_type") in PRIVATE_FILE_TYPES else Role.VIEWER

    @extend_schema(
        operation_id="client_certs_download",
        tags=["downloads"],
        parameters=[
            OpenApiParameter(
                PFX_PASSWORD_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="pfx: the PKCS#12 password (required; never in the URL).",
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (200, "application/x-pkcs12"): OpenApiTypes.BINARY,
        },
        description="The certificate (crt), its CSR (csr, CSR-based only), the private key (key) or a PKCS#12 "
        "bundle (pfx). A private-key download is recorded; a CSR-based certificate has no key here.",
    )
    def get(self, request, identifier, file_type):
        if file_type not in FILE_TYPES:
            raise ApiError("Invalid file type. Must be 'crt', 'key', 'csr', or 'pfx'", "invalid")
        certificate = self.get_client_certificate()
        return file_response(client_file(certificate, file_type, request))


class ClientCertificateRenewView(ClientCertAPIView):
    serializer_class = shapes.ClientCertificateRenewSerializer

    @extend_schema(
        operation_id="client_certs_renew",
        tags=TAGS,
        request=shapes.ClientCertificateRenewSerializer,
        responses={201: shapes.ClientCertificateCreatedSerializer},
        description="Signs the next version at once (same identifier): a new key when certmate made the key, the "
        "same CSR re-signed when the profile allows it, or the holder's new CSR when one is sent. A CSR-based "
        "certificate its profile does not re-sign: 409 needs_csr.",
    )
    def post(self, request, identifier):
        certificate = self.get_client_certificate()
        csr = (self.validated(shapes.ClientCertificateRenewSerializer).get("csr") or "").strip()
        actor = request_actor(request)
        try:
            if csr:
                private_certificate_csr_renew(certificate=certificate, csr_pem=csr, actor=actor)
            else:
                private_certificate_renew_now(certificate=certificate, actor=actor)
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "needs_csr":
                raise ApiError(CSR_RENEW_REFUSED, "needs_csr") from None
            raise
        return created(client_certificate_get(certificate.identifier))


class ClientCertificateRevokeView(ClientCertAPIView):
    required_roles = {"POST": Role.ADMIN}
    serializer_class = shapes.ClientCertificateRevokeSerializer

    @extend_schema(
        operation_id="client_certs_revoke",
        tags=TAGS,
        request=shapes.ClientCertificateRevokeSerializer,
        responses=shapes.ClientCertificateRevokedSerializer,
        description="Revokes the current version at once (admin, as in CertMate): it is in the CA's CRL, signed "
        "now, and OCSP answers revoked. Revoking it again answers the same (its first reason stands, unless a "
        "hold is made final or a compromise is learnt). Free-text reasons are recorded as unspecified.",
    )
    def post(self, request, identifier):
        certificate = self.get_client_certificate()
        text = self.validated(shapes.ClientCertificateRevokeSerializer)["reason"]
        client_certificate_revoke(certificate=certificate, reason_text=text, actor=request_actor(request))
        return Response({"message": f"Certificate revoked: {certificate.identifier}"})


class ClientCertificateStatsView(ClientCertAPIView):
    @extend_schema(
        operation_id="client_certs_stats",
        tags=TAGS,
        responses=shapes.ClientCertificateStatsSerializer,
        description="CertMate's statistics of the tenant's client certificates.",
    )
    def get(self, request):
        return Response(client_statistics(rows=self.in_scope(client_certificates())))


class ClientCertificateBatchView(ClientCertAPIView):
    serializer_class = shapes.ClientCertificateBatchSerializer
    scoped_tokens = False  # a batch names its certificates as it goes: not for a scoped token

    @extend_schema(
        operation_id="client_certs_batch",
        tags=TAGS,
        request=shapes.ClientCertificateBatchSerializer,
        responses={201: shapes.ClientCertificateBatchResultSerializer},
        description="CertMate's batch: up to 100 CSV rows as JSON, each issued with a server-side key; refused rows "
        "are reported with their line and reason and do not stop the others.",
    )
    def post(self, request):
        data = self.validated(shapes.ClientCertificateBatchSerializer)
        results = client_certificates_batch(headers=data["headers"], rows=data["rows"], actor=request_actor(request))
        return Response(results, status=status.HTTP_201_CREATED)
