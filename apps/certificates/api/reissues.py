"""/api/reissues: bulk reissues (renew every ACME certificate a selector matches, optionally revoking each
old version once its replacement is live). Admins ask for one; everyone may follow it. Thin: the
services check the selector and do the work; tokens limited to some certificates are refused."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.api.serializers.certificates import UtcDateTimeField
from apps.certificates.models import BulkReissue, KeyType, ReissueItemStatus, ReissueStatus
from apps.certificates.reissue_selectors import (
    bulk_reissue_get,
    bulk_reissue_list,
    item_error,
    item_progress,
    reissue_items,
)
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.services.reissue import MAX_IDS, bulk_reissue_create, bulk_reissue_preview
from certmate.actors import request_actor
from certmate.api.fields import IntegerField
from certmate.api.views import TenantAPIMixin

TAGS = ["reissues"]


class SelectorSerializer(serializers.Serializer):
    """What a bulk reissue matches (described here; the service checks it, unknown keys refused)."""

    ca_account = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Certificates of this CA account (or whose current version it issued).",
    )
    issuer = serializers.CharField(
        required=False, max_length=200, help_text="Certificates whose current version's issuer DN contains this text."
    )
    key_type = serializers.ChoiceField(
        choices=KeyType.choices, required=False, help_text="Certificates of this key type."
    )
    names = serializers.CharField(
        required=False, max_length=253, help_text="A glob over each certificate's name and SANs: *.example.com."
    )
    ids = serializers.ListField(
        child=IntegerField(min_value=1), required=False, max_length=MAX_IDS, help_text="Certificates by their ids."
    )


@extend_schema_field(SelectorSerializer)
class SelectorField(serializers.DictField):
    """Any object, handed to the service whole: its refusals name the key (selector.names: ...)."""


class BulkReissueRequestSerializer(serializers.Serializer):
    selector = SelectorField(
        help_text="Which certificates: ca_account, issuer, key_type, names and/or ids (all given must match). "
        "ACME server certificates with an issued version only."
    )
    revoke_old = serializers.BooleanField(
        default=False, help_text="true: revoke each old version once its replacement is stored and published."
    )
    reason = serializers.ChoiceField(
        choices=[(reason, reason) for reason in REVOCATION_REASONS],
        required=False,
        help_text="With revoke_old: why (RFC 5280), unspecified by default.",
    )
    preview = serializers.BooleanField(
        default=False, help_text="true: answer how many certificates it would renew, and renew nothing."
    )


class ReissueItemSerializer(serializers.Serializer):
    certificate = serializers.CharField(source="certificate.identifier", help_text="The certificate's name.")
    certificate_id = IntegerField(help_text="The certificate's id.")
    old_version = IntegerField(
        source="old_version.number",
        allow_null=True,
        help_text="The version it replaces (and, with revoke_old, revokes).",
    )
    new_version = IntegerField(source="new_version.number", allow_null=True, help_text="The version renewing stored.")
    status = serializers.ChoiceField(
        choices=ReissueItemStatus.choices,
        help_text="pending (waiting for its CA account's order window), renewing, publishing (renewed, waiting to "
        "be live on the storage target), revoking, then done or failed.",
    )
    progress = serializers.SerializerMethodField(help_text="What an open one waits for; empty once finished.")
    error = serializers.SerializerMethodField(help_text="Why it failed; empty otherwise.")
    renewal_job = IntegerField(source="renewal_job_id", allow_null=True, help_text="The job renewing it.")
    revocation_job = IntegerField(
        source="revocation_job_id", allow_null=True, help_text="The job revoking the old one."
    )

    def get_progress(self, item) -> str:
        return item_progress(item)

    def get_error(self, item) -> str:
        return item_error(item)


class BulkReissueSerializer(serializers.Serializer):
    id = IntegerField(help_text="The bulk reissue's id.")
    selector = SelectorSerializer(help_text="What it matched.")
    revoke_old = serializers.BooleanField(help_text="Whether it revokes the old versions.")
    reason = serializers.CharField(help_text="The revocation reason (RFC 5280), with revoke_old; empty otherwise.")
    status = serializers.ChoiceField(
        choices=ReissueStatus.choices, help_text="queued, running, then succeeded, failed-partially or failed."
    )
    total = IntegerField(help_text="How many certificates it renews.")
    done = IntegerField(source="items_done", help_text="How many have finished (done or failed).")
    renewed = IntegerField(help_text="How many have a new version.")
    revoked = IntegerField(help_text="How many old versions it revoked.")
    failed = IntegerField(help_text="How many failed.")
    requested_by = serializers.CharField(source="requested_by_name", help_text="Who asked for it.")
    created_at = UtcDateTimeField(help_text="When it was asked for (it matched the certificates then).")
    started_at = UtcDateTimeField(allow_null=True, help_text="When its task started.")
    finished_at = UtcDateTimeField(allow_null=True, help_text="When its last certificate finished.")
    status_url = serializers.SerializerMethodField(help_text="Where to follow it.")

    def get_status_url(self, bulk: BulkReissue) -> str:
        return reverse("reissue-detail", kwargs={"bulk_id": bulk.pk})


class BulkReissueDetailSerializer(BulkReissueSerializer):
    items = serializers.SerializerMethodField(help_text="One per certificate, in order.")

    @extend_schema_field(ReissueItemSerializer(many=True))
    def get_items(self, bulk: BulkReissue) -> list:
        return ReissueItemSerializer(reissue_items(bulk), many=True).data


Preview = inline_serializer(
    "BulkReissuePreview",
    {
        "preview": serializers.BooleanField(help_text="true: nothing was renewed."),
        "matching": IntegerField(help_text="How many certificates it would renew now."),
    },
)


class ReissueAPIView(TenantAPIMixin, GenericAPIView):
    """Bulk reissues of this tenant: everyone may follow them, admins ask for them."""

    required_roles = {"POST": Role.ADMIN}
    serializer_class = BulkReissueRequestSerializer


class BulkReissueListView(ReissueAPIView):
    @extend_schema(
        tags=TAGS,
        responses=BulkReissueSerializer(many=True),
        summary="The bulk reissues, newest first",
        description="Each with its progress (done, renewed, revoked, failed of total); its items at its status_url.",
    )
    def get(self, request):
        rows = bulk_reissue_list()
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(BulkReissueSerializer(rows, many=True).data)
        return self.get_paginated_response(BulkReissueSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=BulkReissueRequestSerializer,
        responses={202: BulkReissueSerializer, 200: Preview},
        summary="Renew every certificate a selector matches, optionally revoking the old versions (admin)",
        description="For a CA distrust or a key compromise: one job renews every matching ACME certificate "
        "(paced by each CA account's order limit), and with revoke_old revokes each old version once its "
        "replacement is stored and published; a failed renewal revokes nothing. 202 with it: follow its "
        "status_url for the progress and a result per certificate. With preview: 200 with the count. A selector "
        "that matches nothing, or an unknown key, is a 400 naming it; a fourth while three are still open is a 409 "
        "naming them.",
    )
    def post(self, request):
        data = self.validated(BulkReissueRequestSerializer)
        if data["preview"]:
            return Response({"preview": True, "matching": bulk_reissue_preview(selector=data["selector"])})
        bulk = bulk_reissue_create(
            selector=data["selector"],
            revoke_old=data["revoke_old"],
            reason=data.get("reason"),
            actor=request_actor(request),
        )
        return Response(BulkReissueSerializer(bulk_reissue_get(bulk_id=bulk.pk)).data, status=status.HTTP_202_ACCEPTED)


class BulkReissueDetailView(ReissueAPIView):
    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("bulk_id", int, OpenApiParameter.PATH, description="The bulk reissue's id.")],
        responses=BulkReissueDetailSerializer,
        summary="A bulk reissue: its progress and a result per certificate",
        description="Each certificate's old and new version, status, what it waits for and why it failed. Another "
        "tenant's bulk reissue is a 404, like one that never was.",
    )
    def get(self, request, bulk_id: int):
        return Response(BulkReissueDetailSerializer(bulk_reissue_get(bulk_id=bulk_id)).data)
