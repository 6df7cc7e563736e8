"""/api/cas: a tenant's CAs. Everyone may read (never a private key); admins create, import, upload and
change states. Thin: serializers bound the input, pki services do the work, certmate.api.exceptions
answers their refusals."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.api.pki import serializers as s
from apps.certificates.api.views.base import FilesNegotiation
from apps.certificates.models import CaState, CertificateAuthority
from apps.certificates.pki import authorities
from apps.certificates.pki.ca_selectors import ca_list
from apps.certificates.pki.crl_refresh import ca_crl_validity_set
from apps.certificates.pki.services import ca_hierarchy_create
from apps.certificates.services.downloads import PEM_TYPE
from certmate.actors import request_actor
from certmate.api.views import TenantAPIMixin

TAGS = ["cas"]
ADMIN_WRITES = {"POST": Role.ADMIN, "PUT": Role.ADMIN, "PATCH": Role.ADMIN, "DELETE": Role.ADMIN}
PATH_PARAMETERS = {
    "ca": OpenApiParameter("ca", location=OpenApiParameter.PATH, description="The CA's name (or its id)."),
    "profile": OpenApiParameter("profile", location=OpenApiParameter.PATH, description="The profile's name."),
}
# What each state action sets (POST /api/cas/{ca}/<action>).
STATE_ACTIONS = {"disable": CaState.DISABLED, "enable": CaState.ACTIVE, "retire": CaState.RETIRED}


class PkiSchema(AutoSchema):
    """Describes the path's variables once for every view."""

    def get_override_parameters(self):
        described = [parameter for name, parameter in PATH_PARAMETERS.items() if f"{{{name}}}" in self.path]
        return [*described, *super().get_override_parameters()]


class PkiAPIView(TenantAPIMixin, GenericAPIView):
    schema = PkiSchema()
    required_roles = ADMIN_WRITES

    def get_authority(self) -> CertificateAuthority:
        """The CA named in the path: a 404 when this tenant has none (whether or not another has)."""
        return authorities.ca_resolve(self.kwargs["ca"])

    def listed(self, rows, serializer_class) -> Response:
        """Whole, or a page when asked for (limit/offset, page/page_size)."""
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(serializer_class(rows, many=True).data)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def ca_created(self, service) -> Response:
        """The body checked by the view's serializer, handed to ``service``: 201 with the new CA."""
        authority = service(actor=request_actor(self.request), **self.validated(self.serializer_class))
        return ca_response(authority, status.HTTP_201_CREATED)


def ca_response(authority: CertificateAuthority, code: int = status.HTTP_200_OK) -> Response:
    authority = ca_list().get(pk=authority.pk)  # read again whole: its parent and profiles
    return Response(s.CaSerializer(authority).data, status=code)


class CaListView(PkiAPIView):
    serializer_class = s.CaHierarchySerializer

    @extend_schema(tags=TAGS, responses=s.CaSerializer(many=True), summary="List the tenant's CAs")
    def get(self, request):
        return self.listed(ca_list(), s.CaSerializer)

    @extend_schema(
        tags=TAGS,
        request=s.CaHierarchySerializer,
        responses={201: s.CaSerializer},
        summary="Create a CA hierarchy (admin)",
        description='A root ("<name>-root", signs intermediates only) and an intermediate "<name>" under it, with '
        "the profiles server, client and server-and-client. Answers the intermediate (its parent is the root). "
        "A name in use: 409 name_taken.",
    )
    def post(self, request):
        data = self.validated(s.CaHierarchySerializer)
        _, intermediate = ca_hierarchy_create(actor=request_actor(request), **data)
        return ca_response(intermediate, status.HTTP_201_CREATED)


class CaImportView(PkiAPIView):
    serializer_class = s.CaImportSerializer

    @extend_schema(
        tags=TAGS,
        request=s.CaImportSerializer,
        responses={201: s.CaSerializer},
        summary="Import an existing CA (admin)",
        description="Its certificate and private key (PEM; a passphrase-protected key with passphrase), and its "
        "chain. The key must match the certificate. The key is stored encrypted and never answered.",
    )
    def post(self, request):
        return self.ca_created(authorities.ca_import)


class CaExternalView(PkiAPIView):
    serializer_class = s.CaExternalSerializer

    @extend_schema(
        tags=TAGS,
        request=s.CaExternalSerializer,
        responses={201: s.CaSerializer},
        summary="Start an externally signed intermediate (admin)",
        description="certmate makes the key and a CSR: the answer is the pending CA with csr_pem. Have it signed "
        "by your own root, then POST the certificate to /api/cas/{ca}/upload.",
    )
    def post(self, request):
        return self.ca_created(authorities.ca_external_create)


class CaDetailView(PkiAPIView):
    serializer_class = s.CaUpdateSerializer

    @extend_schema(tags=TAGS, responses=s.CaSerializer, summary="A CA (never its private key)")
    def get(self, request, ca):
        return ca_response(self.get_authority())

    @extend_schema(
        tags=TAGS,
        request=s.CaUpdateSerializer,
        responses=s.CaSerializer,
        summary="Change a CA's settings (admin)",
        description="crl_validity_hours: how long its CRLs are valid (1 to 8760). The CRL published keeps its "
        "nextUpdate; the next one (beat, at half of the new validity at the latest) uses it.",
    )
    def patch(self, request, ca):
        authority = self.get_authority()
        data = self.validated(s.CaUpdateSerializer)
        return ca_response(
            ca_crl_validity_set(authority=authority, hours=data["crl_validity_hours"], actor=request_actor(request))
        )


class CaUploadView(PkiAPIView):
    serializer_class = s.CaUploadSerializer

    @extend_schema(
        tags=TAGS,
        request=s.CaUploadSerializer,
        responses=s.CaSerializer,
        summary="Upload the signed certificate of a pending CA (admin)",
        description="It must match the key certmate made; the CA becomes active.",
    )
    def post(self, request, ca):
        authority = self.get_authority()
        data = self.validated(s.CaUploadSerializer)
        return ca_response(authorities.ca_external_upload(authority=authority, actor=request_actor(request), **data))


class CaStateView(PkiAPIView):
    """POST /api/cas/{ca}/disable, /enable, /retire (``action`` is set by the URL)."""

    action = ""

    def post(self, request, ca):
        authority = self.get_authority()
        state = STATE_ACTIONS[self.action]
        return ca_response(authorities.ca_state_set(authority=authority, state=state, actor=request_actor(request)))


def state_view(action: str, description: str):
    view = type(f"Ca{action.title()}View", (CaStateView,), {"action": action})
    view.post = extend_schema(tags=TAGS, request=None, responses=s.CaSerializer, summary=description)(view.post)
    return view.as_view()


class CaDefaultView(PkiAPIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses=s.CaSerializer,
        summary="Make it the tenant's default CA (admin)",
        description="The default CA issues the client certificates of the CertMate-compatible endpoints.",
    )
    def post(self, request, ca):
        authority = self.get_authority()
        authorities.ca_default_set(authority=authority, actor=request_actor(request))
        return ca_response(authority)


class CaCertificateView(PkiAPIView):
    content_negotiation_class = FilesNegotiation

    @extend_schema(
        tags=TAGS,
        responses={(200, PEM_TYPE): str},
        summary="The CA's certificate and chain (PEM)",
        description="Its certificate followed by its issuers up to the root: what clients and servers trust. "
        "Empty while pending.",
    )
    def get(self, request, ca):
        authority = self.get_authority()
        response = HttpResponse(authority.certificate_pem + authority.chain_pem, content_type=PEM_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, f"{authority.name}.pem")
        response["X-Content-Type-Options"] = "nosniff"
        return response
