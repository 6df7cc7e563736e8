"""CertMate's ``GET /api/ocsp/status/<serial>``: the status of a decimal serial at the tenant's default
CA, in CertMate's JSON shape. Open without credentials, as CertMate's is (a serial's status is what an
OCSP responder tells anyone); a token, when sent, must be one of this tenant's. The signed answer TLS
stacks use is /pki/ocsp."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.certificates.pki.ocsp import default_ca_serial_status
from certmate.api.exceptions import ApiError
from certmate.api.views import TenantAPIView

MAX_SERIAL = 2**160  # CertMate's bound
RESPONDER_NAME = "CertMate OCSP Responder"  # the name CertMate's clients see
OCSP_STATES = ("good", "revoked", "unknown")  # the schema names them OcspCertificateStatusEnum


class OcspStatusSerializer(serializers.Serializer):
    response_status = serializers.CharField(help_text="successful")
    certificate_status = serializers.ChoiceField(OCSP_STATES, help_text="good, revoked or unknown.")
    certificate_serial = serializers.IntegerField(help_text="The serial asked about (decimal).")
    this_update = serializers.DateTimeField(help_text="When this answer was made.")
    next_update = serializers.DateTimeField(allow_null=True, help_text="Always null: answers are made on demand.")
    responder_name = serializers.CharField(help_text="CertMate OCSP Responder")
    revocation_time = serializers.DateTimeField(required=False, help_text="When it was revoked (revoked only).")
    revocation_reason = serializers.CharField(
        required=False, help_text="Why (revoked only): unspecified, keycompromise, superseded, ..."
    )


class OcspStatusView(TenantAPIView):
    permission_classes = [AllowAny]
    serializer_class = serializers.Serializer

    @extend_schema(
        operation_id="ocsp_status",
        tags=["client certificates"],
        auth=[{}],
        parameters=[
            OpenApiParameter(
                "serial", int, OpenApiParameter.PATH, description="The certificate's serial, decimal (0 to 2^160)."
            )
        ],
        responses=OcspStatusSerializer,
        description="CertMate's OCSP status in JSON: good, revoked (with time and reason) or unknown (a serial "
        "the tenant's default CA never issued). No credentials needed. Relying parties use /pki/ocsp (RFC 6960).",
    )
    def get(self, request, serial: str):
        if len(serial) > 60 or int(serial) > MAX_SERIAL:
            raise ApiError("Serial number out of valid range", "invalid_serial")
        number = int(serial)
        status = default_ca_serial_status(number)
        body = {
            "response_status": "successful",
            "certificate_status": status.state.name.lower(),
            "certificate_serial": number,
            "this_update": datetime.now(UTC).isoformat(),
            "next_update": None,
            "responder_name": RESPONDER_NAME,
        }
        if status.revoked_at is not None:
            body.update(revocation_time=status.revoked_at.isoformat(), revocation_reason=status.reason)
        return Response(body)
