"""What every certificate endpoint shares: the tenant API base, the certificate named in the path,
and lists as CertMate reads them."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation

from apps.accounts.models import ApiToken
from apps.certificates.models import Certificate, CertificateKind
from apps.certificates.selectors import certificate_get
from certmate.api.views import TenantAPIMixin

DOMAIN_PARAMETER = OpenApiParameter(
    "domain",
    location=OpenApiParameter.PATH,
    description="The certificate's domain: example.com, or a wildcard as *.example.com or %2A.example.com "
    "(any case; validated and normalised to lowercase A-labels first); for a private CA's certificate, its "
    "name (alice-laptop, alice@example.com). A client and a server certificate may share a name: add "
    "?kind=client (or server) to pick one; without it the server certificate is answered.",
)
KIND_PARAMETER = OpenApiParameter(
    "kind",
    enum=CertificateKind.values,
    required=False,
    description="server or client: which certificate a name shared by both means (default: server, else client).",
)


PATH_PARAMETERS = {
    "domain": DOMAIN_PARAMETER,
    "job_id": OpenApiParameter(
        "job_id", int, OpenApiParameter.PATH, description="The job's id, as a create or renew answered it."
    ),
}


class CertificateSchema(AutoSchema):
    """Describes the path's variables once for every view."""

    def get_override_parameters(self):
        described = [parameter for name, parameter in PATH_PARAMETERS.items() if f"{{{name}}}" in self.path]
        if "{domain}" in self.path:
            described.append(KIND_PARAMETER)
        return [*described, *super().get_override_parameters()]


class CertificateAPIView(TenantAPIMixin, GenericAPIView):
    schema = CertificateSchema()
    scoped_tokens = True  # every certificate endpoint narrows what it shows to the token's scope

    def certificate_in_scope(self, certificate: Certificate) -> Certificate:
        """``certificate``, or a 404 as if it did not exist when the token's scope leaves it out."""
        self.scope_check(certificate.identifier, f"no certificate for {certificate.identifier}")
        return certificate

    def get_certificate(self) -> Certificate:
        """The certificate named by the path's domain (``*.example.com`` or ``%2A.example.com``).

        A private certificate's name works too; ``?kind=client|server`` picks between a client and a server
        certificate of one name (default: the server one). A value that is neither a domain nor a name is
        a 400 on the field ``domain``; one this tenant has no certificate for is a 404, whether or not
        another tenant has one."""
        kind = self.request.query_params.get("kind") or None
        if kind is not None and kind not in CertificateKind.values:
            raise DjangoValidationError({"kind": f"use one of {', '.join(CertificateKind.values)}"}, code="invalid")
        try:
            certificate = certificate_get(domain=self.kwargs["domain"], kind=kind)
        except DjangoValidationError as exc:
            raise DjangoValidationError({"domain": exc.error_list}) from None
        return self.certificate_in_scope(certificate)

    def listed(self, rows, serializer_class, context: dict):
        # A page is chosen over the ids alone, then its rows are read whole: sorting thousands of wide
        # joined rows only to skip most of them was most of a deep page's time.
        page = self.paginate_queryset(rows.values_list("pk", flat=True))
        if page is None:
            data = serializer_class(rows, many=True, context=context).data
            return self.paginator.get_unpaginated_response(data)
        found = rows.in_bulk(page)
        data = serializer_class([found[pk] for pk in page if pk in found], many=True, context=context).data
        return self.get_paginated_response(data)


def token_delegator_of(request) -> str:
    """The e-mail of whoever made the request's token for its user (delegation), or ""."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is None or token.created_by_id in (None, token.user_id):
        return ""
    return token.created_by.email


class FilesNegotiation(BaseContentNegotiation):
    """Files are answered whatever Accept says (and ``?format=`` is ours, not DRF's renderer switch);
    JSON answers and errors use the first (JSON) renderer."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
