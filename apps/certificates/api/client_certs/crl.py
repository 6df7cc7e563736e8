"""CertMate's GET /api/crl/download/<format>: the CRL of the tenant's default CA as PEM or DER (the bytes
/pki/<ca>/crl.der|pem serve, with the same caching headers), or ``info`` about it in CertMate's shape.
Unauthenticated like CertMate's (a CRL is public), throttled per address like the API's anonymous
calls. A tenant without a default CA has no CRL here: 404 "No CRL available" (an anonymous request
never makes a CA; the first CRL of an existing default CA is signed on first request)."""

from __future__ import annotations

from cryptography import x509
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.certificates.api.views.base import FilesNegotiation
from apps.certificates.models import CertificateAuthority, RevocationList
from apps.certificates.pki.crl_refresh import crl_authorities, crl_der, crl_for_serving
from apps.certificates.pki.publication import CRL_TYPE, PEM_TYPE, crl_response
from certmate.api.exceptions import ApiError
from certmate.api.throttling import AnonRateThrottle

FORMATS = ("pem", "der", "info")
NO_CRL = "No CRL available"
FILENAME = "ca.crl"  # CertMate's

INFO = inline_serializer(
    "CrlInfo",
    {
        "status": serializers.ChoiceField(choices=["available", "no_crl"], help_text="no_crl: no default CA."),
        "message": serializers.CharField(required=False, help_text="With no_crl only."),
        "issuer": serializers.CharField(required=False, help_text="The CRL's issuer (RFC 4514)."),
        "last_update": serializers.CharField(required=False, help_text="thisUpdate (ISO 8601, UTC)."),
        "next_update": serializers.CharField(required=False, help_text="nextUpdate (ISO 8601, UTC)."),
        "revoked_count": serializers.IntegerField(required=False, help_text="Entries in the CRL."),
        "revoked_serials": serializers.ListField(
            child=serializers.CharField(), required=False,
            help_text="Serial numbers of the entries, in decimal (as client-certs' serial_number).",
        ),
    },
)  # fmt: skip


def crl_info(crl: RevocationList | None) -> dict:
    """CertMate's description of a CRL (modules/core/ocsp_crl.py get_crl_info), read from the CRL served."""
    der = crl_der(crl) if crl is not None else None
    if der is None:
        return {"status": "no_crl", "message": NO_CRL}
    parsed = x509.load_der_x509_crl(der)
    serials = [str(entry.serial_number) for entry in parsed]
    return {
        "status": "available",
        "issuer": parsed.issuer.rfc4514_string(),
        "last_update": parsed.last_update_utc.isoformat(),
        "next_update": parsed.next_update_utc.isoformat() if parsed.next_update_utc else None,
        "revoked_count": len(serials),
        "revoked_serials": serials,
    }


class CrlDownloadView(APIView):
    authentication_classes = []  # a random bearer token does not pick another throttle bucket
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    content_negotiation_class = FilesNegotiation
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="crl_download",
        tags=["client certificates"],
        auth=[],
        parameters=[OpenApiParameter("format_type", location=OpenApiParameter.PATH, enum=list(FORMATS))],
        responses={
            (200, CRL_TYPE): OpenApiTypes.BINARY, (200, PEM_TYPE): OpenApiTypes.STR, (200, "application/json"): INFO,
        },
        summary="The default CA's CRL (CertMate's path; no authentication)",
        description="pem or der: the CRL of the tenant's default CA (what /pki/{ca}/crl.pem|der serve, with caching "
        "headers until its nextUpdate and 304 on If-None-Match); info: its issuer, times and revoked serials. "
        "404 No CRL available when the tenant has no default CA.",
    )  # fmt: skip
    def get(self, request, format_type: str):
        if format_type not in FORMATS:
            raise ApiError("Format must be 'pem', 'der', or 'info'", "invalid")
        authority: CertificateAuthority | None = crl_authorities().filter(is_default=True).defer("private_key").first()
        crl = crl_for_serving(authority) if authority is not None else None
        if format_type == "info":
            return Response(crl_info(crl))
        if crl is None:
            raise ApiError(NO_CRL, "not_found")
        return crl_response(request, authority, crl, encoding=format_type, filename=FILENAME)
