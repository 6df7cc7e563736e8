"""/api/cas/{ca}/revoke (an intermediate, into its root's CRL) and /api/cas/{ca}/revocations (bulk
revocations: every certificate of a subject, of a profile, signed before a date). Admins write; everyone
may follow a bulk revocation. Thin: the pki services check and do everything."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.certificates.api.pki import serializers as s
from apps.certificates.api.pki.views import PkiAPIView, ca_response
from apps.certificates.api.serializers.certificates import UtcDateTimeField
from apps.certificates.models import BulkRevocation, BulkRevocationStatus
from apps.certificates.pki.bulk_revocation import (
    bulk_revocations,
    bulk_revoke_preview,
    bulk_revoke_submit,
)
from apps.certificates.pki.revocation_rules import CA_REQUEST_REASONS, LEAF_REASONS
from apps.certificates.pki.revoking import ca_revoke
from certmate.actors import request_actor
from certmate.api.fields import IntegerField
from certmate.errors import NotFound

TAGS = ["cas"]


class CaRevokeSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[(reason, reason) for reason in CA_REQUEST_REASONS],
        default="unspecified",
        help_text="Why (RFC 5280); keycompromise is recorded as cacompromise, a CA's own.",
    )


class BulkRevocationRequestSerializer(serializers.Serializer):
    subject = serializers.CharField(
        required=False, allow_blank=True, max_length=256, help_text="Every certificate of this common name (any case)."
    )
    profile = serializers.CharField(
        required=False, allow_blank=True, max_length=80, help_text="Every certificate issued under this profile."
    )
    issued_before = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Every certificate signed before this ISO 8601 date or date-time (UTC unless it says otherwise).",
    )
    reason = serializers.ChoiceField(
        choices=[(reason, reason) for reason in LEAF_REASONS], help_text="Why (RFC 5280), for every one of them."
    )
    invalidity_date = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="keycompromise: since when the key(s) may be compromised; each certificate gets it, or its own "
        "notBefore when it is later.",
    )
    preview = serializers.BooleanField(
        required=False, default=False, help_text="true: answer how many it would revoke, and revoke nothing."
    )


class BulkResultSerializer(serializers.Serializer):
    id = IntegerField(help_text="The version's row id.")
    identifier = serializers.CharField(help_text="The certificate's name.")
    version = IntegerField(help_text="The version's number.")
    serial = serializers.CharField(help_text="Its serial (hex).")
    status = serializers.ChoiceField(
        choices=["revoked", "skipped", "failed"],
        help_text="revoked; skipped (revoked for another reason meanwhile); failed (error says why).",
    )
    error = serializers.CharField(required=False, help_text="Why it was skipped or failed.")


class BulkRevocationSerializer(serializers.Serializer):
    id = IntegerField(help_text="The bulk revocation's id.")
    authority = serializers.CharField(source="authority.name", help_text="The CA whose certificates it revokes.")
    selector = serializers.DictField(
        child=serializers.CharField(), help_text="What it matches: subject, profile and/or issued_before."
    )
    reason = serializers.CharField(help_text="Why (RFC 5280).")
    invalidity_date = UtcDateTimeField(allow_null=True, help_text="keycompromise: since when; null.")
    status = serializers.ChoiceField(
        choices=BulkRevocationStatus.choices,
        help_text="queued, running, then succeeded, failed-partially or failed.",
    )
    total = IntegerField(help_text="How many versions it matched when asked for (when finished: it handled).")
    done = IntegerField(help_text="How many have a result.")
    revoked = IntegerField(help_text="How many it revoked.")
    failed = IntegerField(help_text="How many failed.")
    requested_by = serializers.CharField(source="requested_by_name", help_text="Who asked for it.")
    created_at = UtcDateTimeField(help_text="When it was asked for (it matches versions signed until then).")
    started_at = UtcDateTimeField(allow_null=True, help_text="When its job started.")
    finished_at = UtcDateTimeField(allow_null=True, help_text="When its job finished.")
    status_url = serializers.SerializerMethodField(help_text="Where to follow it.")

    def get_status_url(self, bulk: BulkRevocation) -> str:
        return reverse("ca-revocation-detail", kwargs={"ca": bulk.authority.name, "bulk_id": bulk.pk})


class BulkRevocationDetailSerializer(BulkRevocationSerializer):
    results = BulkResultSerializer(many=True, help_text="One per version handled, in id order.")


Preview = inline_serializer(
    "BulkRevocationPreview",
    {
        "preview": serializers.BooleanField(help_text="true: nothing was revoked."),
        "matching": IntegerField(help_text="How many versions it would revoke now."),
    },
)


class CaRevokeView(PkiAPIView):
    serializer_class = CaRevokeSerializer

    @extend_schema(
        tags=TAGS,
        request=CaRevokeSerializer,
        responses=s.CaSerializer,
        summary="Revoke an intermediate CA (admin)",
        description="It is listed in its parent's CRL (signed now) and retired: it issues nothing again. A root, "
        "or a CA signed outside certmate, is 409 not_revocable. Repeating it changes nothing.",
    )
    def post(self, request, ca):
        authority = self.get_authority()
        reason = self.validated(CaRevokeSerializer)["reason"]
        return ca_response(ca_revoke(authority=authority, reason=reason, actor=request_actor(request)))


class BulkRevocationListView(PkiAPIView):
    serializer_class = BulkRevocationRequestSerializer

    @extend_schema(
        tags=TAGS,
        responses=BulkRevocationSerializer(many=True),
        summary="The CA's bulk revocations, newest first",
    )
    def get(self, request, ca):
        return self.listed(bulk_revocations(authority=self.get_authority()).defer("results"), BulkRevocationSerializer)

    @extend_schema(
        tags=TAGS,
        request=BulkRevocationRequestSerializer,
        responses={202: BulkRevocationSerializer, 200: Preview},
        summary="Revoke every certificate of a subject, a profile, or signed before a date (admin)",
        description="One job revokes every version the CA signed that matches (all given criteria; old versions "
        "still valid too, holds made final; not the expired or already revoked ones), with a result per version, "
        "and signs one CRL at its end. 202 with it: follow its status_url. With preview: 200 with the count.",
    )
    def post(self, request, ca):
        authority = self.get_authority()
        data = self.validated(BulkRevocationRequestSerializer)
        selector = {key: data[key] for key in ("subject", "profile", "issued_before") if data.get(key)}
        if data["preview"]:
            matching = bulk_revoke_preview(authority=authority, selector=selector, reason=data["reason"])
            return Response({"preview": True, "matching": matching})
        bulk = bulk_revoke_submit(
            authority=authority,
            selector=selector,
            reason=data["reason"],
            invalidity_date=data.get("invalidity_date"),
            actor=request_actor(request),
        )
        return Response(BulkRevocationSerializer(bulk).data, status=status.HTTP_202_ACCEPTED)


class BulkRevocationDetailView(PkiAPIView):
    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("bulk_id", int, OpenApiParameter.PATH, description="The bulk revocation's id.")],
        responses=BulkRevocationDetailSerializer,
        summary="A bulk revocation: its progress and a result per version",
    )
    def get(self, request, ca, bulk_id: int):
        rows = bulk_revocations(authority=self.get_authority())
        bulk = rows.filter(pk=bulk_id).first() if bulk_id < 2**63 else None
        if bulk is None:
            raise NotFound(f"no bulk revocation {bulk_id}")
        return Response(BulkRevocationDetailSerializer(bulk).data)
