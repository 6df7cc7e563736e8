"""CertMate's GET /api/certificates/{domain}/deployment-status: is the certificate's current version what
its host serves? (A probe each time: certmate keeps no cache of it, so CertMate's ?refresh changes nothing.)"""

from __future__ import annotations

import ipaddress

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.certificates.api.serializers.requests import clean_domain_field
from apps.certificates.api.views.base import CertificateAPIView
from apps.certificates.deployment import served_certificate
from apps.certificates.selectors import certificate_version

METHOD = "https-tls"


class ProbeQuerySerializer(serializers.Serializer):
    host = serializers.CharField(
        required=False, max_length=253, help_text="Probe this host instead of the domain (a wildcard needs one)."
    )
    port = serializers.IntegerField(
        required=False, min_value=1, max_value=65535, default=443, help_text="The port to probe (default 443)."
    )
    refresh = serializers.CharField(required=False, max_length=10, help_text="CertMate's; every call probes.")

    def validate_host(self, value: str) -> str:
        """A DNS name or an IP address (the egress rule decides whether it may be reached)."""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return clean_domain_field(value)


Status = inline_serializer(
    "CertMateDeploymentStatus",
    {
        "domain": serializers.CharField(help_text="The certificate's domain."),
        "deployed": serializers.BooleanField(help_text="The host answered over TLS."),
        "reachable": serializers.BooleanField(help_text="The same as deployed (CertMate's two names)."),
        "certificate_match": serializers.BooleanField(help_text="It serves the current version."),
        "method": serializers.CharField(help_text="https-tls: a TLS handshake."),
        "port": serializers.IntegerField(help_text="The port probed."),
        "protocol": serializers.CharField(help_text="https-tls."),
        "timestamp": serializers.CharField(help_text="When it was probed (ISO 8601)."),
        "probe_host": serializers.CharField(allow_null=True, help_text="The host probed (null: none was)."),
        "probe_status": serializers.CharField(help_text="match, mismatch, unreachable or unverifiable."),
        "mismatch_reason": serializers.CharField(allow_null=True, help_text="Why it does not match, if not."),
    },
)


class CertificateDeploymentStatusView(CertificateAPIView):
    serializer_class = ProbeQuerySerializer

    @extend_schema(
        operation_id="certificates_deployment_status",
        tags=["certificates"],
        parameters=[ProbeQuerySerializer],
        responses=Status,
        description="One TLS handshake to the domain (or ?host=, ?port=) through the egress rule (5 s), the served "
        "certificate's fingerprint compared with the current version's. A wildcard without ?host= is "
        "`unverifiable`, as in CertMate.",
    )
    def get(self, request, domain):
        certificate = self.get_certificate()
        query = self.validated(ProbeQuerySerializer, request.query_params)
        version = certificate_version(certificate=certificate)
        probe_host = query.get("host") or certificate.identifier
        result = {
            "domain": certificate.identifier,
            "deployed": False,
            "reachable": False,
            "certificate_match": False,
            "method": METHOD,
            "port": query["port"],
            "protocol": METHOD,
            "timestamp": timezone.now().isoformat(),
            "probe_host": None,
            "probe_status": None,
            "mismatch_reason": None,
        }
        if probe_host.startswith("*."):
            result["probe_status"] = "unverifiable"
            result["mismatch_reason"] = (
                f"a wildcard certificate ({probe_host}) names no single host: give ?host= a name it covers"
            )
            return Response(result)
        result["probe_host"] = probe_host
        probe = served_certificate(host=probe_host, port=query["port"], server_name=probe_host)
        if not probe.reachable:
            result.update(probe_status="unreachable", mismatch_reason=probe.error)
            return Response(result)
        match = probe.fingerprint == version.fingerprint_sha256
        result.update(reachable=True, deployed=True, certificate_match=match)
        if match:
            result["probe_status"] = "match"
        else:
            result.update(
                probe_status="mismatch",
                served_subject=probe.subject,
                served_fingerprint=probe.fingerprint[:16],
                expected_fingerprint=version.fingerprint_sha256[:16],
                mismatch_reason=f"{probe_host} serves another certificate ({probe.subject or 'unparsable'})",
            )
        return Response(result)
