"""CertMate's request vocabulary where it differs from certmate's: its key shape (key_type rsa|ecdsa with
key_size or elliptic_curve), its reissue and its renew bodies (``async``)."""

from __future__ import annotations

from rest_framework import serializers

from apps.certificates.models import Challenge, KeyType

CERTMATE_KEY_TYPES = ("rsa", "ecdsa")
REQUEST_KEY_TYPES = (*KeyType.values, *CERTMATE_KEY_TYPES)  # certmate's names and CertMate's (schema: one enum)
RSA_SIZES = (2048, 3072, 4096)
CURVES = {"secp256r1": KeyType.EC256, "secp384r1": KeyType.EC384}


class CertMateKeyFields(serializers.Serializer):
    """key_type as certmate names it (rsa2048 ... ec384) or as CertMate does (rsa with key_size, ecdsa with
    elliptic_curve); validated into certmate's name."""

    key_type = serializers.ChoiceField(
        choices=REQUEST_KEY_TYPES,
        required=False,
        help_text="Key of new versions: rsa2048, rsa3072, rsa4096, ec256, ec384; or CertMate's rsa (with key_size) "
        "and ecdsa (with elliptic_curve). Default: the certificate's, else the tenant's default.",
    )
    key_size = serializers.ChoiceField(
        choices=RSA_SIZES, required=False, help_text="CertMate's RSA size, with key_type rsa (default 2048)."
    )
    elliptic_curve = serializers.ChoiceField(
        choices=sorted(CURVES), required=False, help_text="CertMate's curve, with key_type ecdsa (default secp256r1)."
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        key_type, size, curve = attrs.get("key_type"), attrs.pop("key_size", None), attrs.pop("elliptic_curve", None)
        if key_type == "rsa":
            attrs["key_type"] = f"rsa{size or 2048}"
        elif key_type == "ecdsa":
            attrs["key_type"] = CURVES[curve or "secp256r1"]
        elif size or curve:
            raise serializers.ValidationError(
                {"key_type": ["key_size and elliptic_curve go with key_type rsa or ecdsa"]}, code="invalid"
            )
        return attrs


class AsyncField(serializers.BooleanField):
    def __init__(self, what: str):
        super().__init__(
            required=False,
            default=False,
            help_text=f"Answer 202 with the job at once instead of waiting for the {what} (also ?async=true).",
        )


class CertMateRenewSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False, help_text="Renew now even if not due.")

    def get_fields(self):
        fields = super().get_fields()
        fields["async"] = AsyncField("renewal")  # a Python keyword: no class attribute
        return fields


class ReissueSerializer(CertMateKeyFields):
    """POST /api/certificates/{domain}/reissue: what is left out stays as the certificate has it."""

    san_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=99,
        help_text="The names besides the domain, replacing the current ones ([]: none). Left out: kept.",
    )
    dns_provider = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=50, help_text="A DNS provider; left out: kept."
    )
    account_id = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=100, help_text="A DNS account; left out: kept."
    )
    ca_provider = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=100,
        help_text="A CA account or preset; left out: kept.",
    )  # fmt: skip
    challenge_type = serializers.ChoiceField(
        choices=Challenge.choices, required=False, help_text="dns-01 or http-01 (not for wildcards); left out: kept."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["async"] = AsyncField("reissue")
        return fields
