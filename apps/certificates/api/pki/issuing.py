"""Issuing from a private CA through /api/certificates: a request that names an ``issuer`` (a CA of this
tenant) is signed at once under its ``profile`` and answered 201 with the certificate; without one the
request goes to ACME as before. Every value is bounded here and checked again by the service."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from rest_framework import serializers

from apps.certificates.api.serializers.requests import DomainField
from apps.certificates.models import CaKeyType, Certificate, CertificateKind, ProfileKind
from apps.certificates.pki import authorities
from apps.certificates.pki.ca_selectors import profile_get
from apps.certificates.pki.csr import MAX_CSR_BYTES
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.names import MAX_ALT_NAMES, SUBJECT_FIELDS
from apps.certificates.pki.profile_services import MAX_DAYS
from certmate.actors import Actor
from certmate.api.fields import IntegerField
from certmate.errors import NotFound

# A service's refusal without a field, put on the field it is about (the API names the field).
FIELD_OF_CODE = {
    "invalid_subject": "subject",
    "invalid_csr": "csr",
    "invalid_key_type": "key_type",
    "invalid_validity": "days",
    "invalid_name": "alt_names",
    "invalid_domain": "alt_names",
}


def is_private_request(data) -> bool:
    return isinstance(data, Mapping) and "issuer" in data


class SubjectSerializer(serializers.Serializer):
    common_name = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="CN.")
    organization = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="O.")
    organizational_unit = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="OU.")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, help_text="C (two letters).")
    state = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="ST.")
    locality = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="L.")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, help_text="emailAddress.")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name)[:30] for name in set(data) - set(SUBJECT_FIELDS))
            if unknown:
                raise serializers.ValidationError(
                    f"unknown subject fields: {', '.join(unknown[:10])} (use {', '.join(SUBJECT_FIELDS)})"
                )
        return super().to_internal_value(data)


class PrivateCertificateRequestSerializer(serializers.Serializer):
    """POST /api/certificates with ``issuer``: a certificate from one of the tenant's private CAs."""

    issuer = serializers.CharField(max_length=100, help_text="The private CA to issue from: its name (or id).")
    profile = serializers.CharField(
        max_length=80, required=False, help_text='The CA\'s profile; default: "client" for kind client, else "server".'
    )
    kind = serializers.ChoiceField(
        choices=CertificateKind.choices, required=False,
        help_text="server or client; default: the profile's kind (server for a server-and-client profile).",
    )  # fmt: skip
    name = serializers.CharField(
        max_length=128, required=False,
        help_text="The certificate's name (what the paths take): 1-128 of letters, digits, . _ @ + : -. Default: "
        "a server certificate's first DNS name; for a client, its common name with a random suffix.",
    )  # fmt: skip
    domain = DomainField(required=False, help_text="A server certificate's primary DNS name (first SAN).")
    subject = SubjectSerializer(required=False, help_text="Subject fields (the profile copies or requires them).")
    alt_names = serializers.ListField(
        child=serializers.CharField(max_length=300, trim_whitespace=False), required=False, max_length=MAX_ALT_NAMES,
        help_text='Subject alternative names: "DNS:db.internal.example", "IP:10.0.0.5", "email:alice@example.com", '
        '"URI:spiffe://example.org/x". With a CSR and none given: the CSR\'s.',
    )  # fmt: skip
    san_domains = serializers.ListField(
        child=DomainField(), required=False, max_length=MAX_ALT_NAMES, help_text="Further DNS names (as DNS:...)."
    )
    key_type = serializers.ChoiceField(
        choices=CaKeyType.choices, required=False, help_text="Key certmate makes; default: the profile's."
    )
    csr = serializers.CharField(
        max_length=MAX_CSR_BYTES, required=False, trim_whitespace=False,
        help_text="A PEM CSR: its key never leaves the requester (no private key is stored).",
    )  # fmt: skip
    days = IntegerField(required=False, min_value=1, max_value=MAX_DAYS, help_text="Validity; default: the profile's.")
    auto_renew = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Renew when due; default: the tenant's default."
    )
    renew_before_days = IntegerField(
        required=False, allow_null=True, min_value=1, max_value=365,
        help_text="Days before expiry to renew; default (null): the tenant's threshold.",
    )  # fmt: skip
    usage = serializers.CharField(max_length=40, required=False, default="", allow_blank=True,
                                  help_text="What it is for (CertMate's cert_usage: vpn, api-mtls, ...).")  # fmt: skip
    notes = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True,
                                  help_text="Free text.")  # fmt: skip


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _on_field(field: str, exc: ValidationError) -> ValidationError:
    return ValidationError({field: exc.error_list})


def _issuer_and_profile(data: dict):
    try:
        authority = authorities.ca_resolve(data["issuer"])
    except NotFound:
        raise _field_error("issuer", "no private CA of that name here", "unknown_issuer") from None
    kind = data.get("kind")
    name = data.get("profile") or (ProfileKind.CLIENT if kind == CertificateKind.CLIENT else ProfileKind.SERVER)
    try:
        profile = profile_get(authority=authority, name=name)
    except NotFound:
        raise _field_error("profile", f"CA {authority.name!r} has no such profile", "unknown_profile") from None
    return profile, kind or (CertificateKind.CLIENT if profile.kind == ProfileKind.CLIENT else CertificateKind.SERVER)


def private_issue(data: dict, *, actor: Actor) -> Certificate:
    """Issue what a validated PrivateCertificateRequestSerializer holds; refusals keep their code and name
    the field they are about."""
    profile, kind = _issuer_and_profile(data)
    names = [*([data["domain"]] if data.get("domain") else []), *data.get("san_domains", [])]
    alt_names = [*(f"DNS:{name}" for name in names), *data.get("alt_names", [])]
    subject = data.get("subject")
    request = PrivateRequest(
        profile=profile, kind=kind, name=data.get("name"), subject=dict(subject) if subject else None,
        alt_names=alt_names or None, key_type=data.get("key_type"), csr_pem=data.get("csr"), days=data.get("days"),
        auto_renew=data.get("auto_renew"), renew_before_days=data.get("renew_before_days"),
        usage=data["usage"], notes=data["notes"],
    )  # fmt: skip
    try:
        return private_certificate_issue(request, actor=actor)
    except ValidationError as exc:
        field = None if hasattr(exc, "error_dict") else FIELD_OF_CODE.get(exc.error_list[0].code)
        if field is None or len(exc.error_list) != 1:
            raise
        raise _on_field(field, exc) from None
