"""CertMate's POST /api/settings/test-ca-provider (operators, as in CertMate)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.certificates.acme.ca_test import UnknownCaProvider, ca_provider_fetched, ca_provider_test
from certmate.api.exceptions import ApiError
from certmate.api.views import TenantAPIView

MAX_CONFIG_KEYS = 20


class CaTestSerializer(serializers.Serializer):
    ca_provider = serializers.CharField(max_length=40, help_text="A CA preset (letsencrypt, zerossl, ...), "
                                        "digicert, private_ca or custom.")  # fmt: skip
    config = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=70_000),
        help_text="email; acme_url (digicert, private_ca, custom); eab_kid and eab_hmac (EAB CAs); ca_cert (PEM).",
    )

    def validate_config(self, config: dict) -> dict:
        if len(config) > MAX_CONFIG_KEYS:
            raise serializers.ValidationError(f"at most {MAX_CONFIG_KEYS} fields", code="invalid")
        return config


Result = inline_serializer(
    "CertMateCaTestResult",
    {
        "success": serializers.BooleanField(help_text="Whether the configuration looks usable."),
        "message": serializers.CharField(help_text="What was found, in a sentence (never the CA's own text)."),
        "ca_provider": serializers.CharField(help_text="The provider tested, as given."),
        "directory_url": serializers.CharField(required=False, help_text="The ACME directory it would use."),
        "profiles": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="A fetched directory's ACME profiles (name: description), what a certificate may choose.",
        ),
        "renewal_info_url": serializers.CharField(
            required=False, help_text="A fetched directory's ARI (RFC 9773) URL; empty: the CA offers no ARI."
        ),
    },
)


class CertMateCaTestView(TenantAPIView):
    serializer_class = CaTestSerializer

    @extend_schema(
        operation_id="certmate_settings_test_ca_provider",
        tags=["settings"],
        request=CaTestSerializer,
        responses=Result,
        description="200 with success true or false, as CertMate. A preset is checked without a connection; "
        "private_ca, custom and digicert fetch the directory URL through the egress rule (10 s, 64 KiB) and "
        "also answer the profiles and the ARI URL it offers.",
    )
    def post(self, request):
        data = self.validated(CaTestSerializer)
        try:
            result = ca_provider_test(ca_provider=data["ca_provider"], config=data["config"])
        except UnknownCaProvider:
            raise ApiError("Invalid CA provider type", "invalid") from None
        body = {"success": result.success, "message": result.message, "ca_provider": data["ca_provider"]}
        if result.directory_url:
            body["directory_url"] = result.directory_url
        if result.success and ca_provider_fetched(data["ca_provider"]):
            body |= {"profiles": result.profiles, "renewal_info_url": result.renewal_info_url}
        return Response(body)
