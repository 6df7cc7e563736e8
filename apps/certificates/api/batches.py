"""Batches of private certificates: submit (a JSON list of rows or a CSV upload), poll, list.

POST /api/certificates/batch answers 202 with the batch and a Location to poll while its job issues
the rows (200 with the batch already recorded when the idempotency key was sent before)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.certificates.api.pagination import KeyedPagination
from apps.certificates.api.serializers.certificates import UtcDateTimeField
from apps.certificates.models import BatchStatus, CertificateAuthority, IssuanceBatch
from apps.certificates.pki.authorities import ca_resolve
from apps.certificates.pki.batch_rows import MAX_CSV_BYTES, batch_rows_from_csv
from apps.certificates.pki.batching import batch_submit
from certmate.actors import request_actor
from certmate.api.fields import IntegerField
from certmate.api.parsers import BoundedJSONParser, BoundedMultiPartParser
from certmate.api.views import TenantAPIMixin
from certmate.errors import NotFound

TAGS = ["batches"]
ROW_STATUSES = [("issued", "Issued"), ("failed", "Failed")]


class BatchPagination(KeyedPagination):
    results_key = "batches"


class BatchResultSerializer(serializers.Serializer):
    row = IntegerField(help_text="The row's number: 1 for the first row (the line below the CSV header).")
    identifier = serializers.CharField(allow_null=True, help_text="The certificate issued for it, if any.")
    status = serializers.ChoiceField(choices=ROW_STATUSES, help_text="issued, or failed (see error).")
    error = serializers.CharField(allow_null=True, help_text="Why the row was refused; null when issued.")
    code = serializers.CharField(allow_null=True, help_text="The refusal's code (profile_refused, exists, ...).")


class BatchSerializer(serializers.Serializer):
    id = IntegerField(help_text="The batch's id: poll GET /api/certificates/batches/{id}.")
    idempotency_key = serializers.CharField(help_text="The key it was submitted with.")
    authority = serializers.CharField(source="authority.name", help_text="The issuing CA.")
    profile = serializers.CharField(source="profile.name", allow_null=True, help_text="Rows without a profile use it.")
    status = serializers.ChoiceField(
        choices=BatchStatus.choices, help_text="queued, running, then succeeded, failed-partially or failed."
    )
    total = IntegerField(help_text="Rows submitted.")
    done = IntegerField(help_text="Rows with a result so far.")
    succeeded = IntegerField(help_text="Rows issued so far.")
    failed = IntegerField(help_text="Rows refused so far.")
    requested_by = serializers.CharField(source="requested_by_name", help_text="Who submitted it.")
    created_at = UtcDateTimeField(help_text="When it was submitted.")
    started_at = UtcDateTimeField(allow_null=True, help_text="When its job started.")
    finished_at = UtcDateTimeField(allow_null=True, help_text="When every row had a result.")
    status_url = serializers.SerializerMethodField(help_text="Where to poll the batch.")

    def get_status_url(self, batch) -> str:
        return reverse("certificate-batch-detail", kwargs={"batch_id": batch.pk})


class BatchDetailSerializer(BatchSerializer):
    results = BatchResultSerializer(many=True, help_text="One per row done so far, in row order.")


class BatchRequestSerializer(serializers.Serializer):
    authority = serializers.CharField(max_length=100, help_text="The issuing CA's name (or id).")
    profile = serializers.CharField(max_length=80, required=False, help_text="For rows that name none.")
    idempotency_key = serializers.CharField(max_length=100, help_text="Sending it again returns the same batch.")
    rows = serializers.JSONField(required=False, help_text="A list of rows (JSON); or upload a CSV as `file`.")
    file = serializers.FileField(required=False, help_text="A CSV with a header row (multipart).")


def _authority(value: str) -> CertificateAuthority:
    try:
        return ca_resolve(value)
    except NotFound:
        raise ValidationError({"authority": "no CA of that name here"}, code="invalid") from None


def _rows(data: dict):
    upload = data.get("file")
    if upload is not None:
        return batch_rows_from_csv(upload.read(MAX_CSV_BYTES + 1))
    if "rows" not in data:
        raise ValidationError({"rows": "give the rows (JSON) or upload a CSV file as `file`"}, code="invalid")
    return data["rows"]


def _batches():
    return IssuanceBatch.objects.select_related("authority", "profile").defer("rows")


class BatchAPIView(TenantAPIMixin, GenericAPIView):
    pagination_class = BatchPagination


class BatchSubmitView(BatchAPIView):
    parser_classes = [BoundedJSONParser, BoundedMultiPartParser]

    @extend_schema(
        operation_id="certificate_batch_create",
        tags=TAGS,
        request={"application/json": BatchRequestSerializer, "multipart/form-data": BatchRequestSerializer},
        responses={202: BatchSerializer, 200: BatchSerializer},
        description="Issue many certificates from a private CA as one job (at most 10,000 rows). 202 with the "
        "batch to poll; 200 with the earlier batch when its idempotency key is sent again with the same rows; "
        "409 idempotency_conflict when sent with other rows.",
    )
    def post(self, request):
        data = self.validated(BatchRequestSerializer)
        batch, created = batch_submit(
            authority=_authority(data["authority"]),
            rows=_rows(data),
            idempotency_key=data["idempotency_key"],
            profile=data.get("profile"),
            actor=request_actor(request),
        )
        batch = _batches().get(pk=batch.pk)
        body = BatchSerializer(batch).data
        headers = {"Location": body["status_url"]}
        return Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK, headers=headers)


class BatchListView(BatchAPIView):
    @extend_schema(operation_id="certificate_batch_list", tags=TAGS, responses=BatchSerializer(many=True),
                   description="The tenant's batches, newest first (without their per-row results).")  # fmt: skip
    def get(self, request):
        rows = _batches().defer("rows", "results")
        page = self.paginate_queryset(rows)
        if page is None:
            return self.paginator.get_unpaginated_response(BatchSerializer(rows, many=True).data)
        return self.get_paginated_response(BatchSerializer(page, many=True).data)


class BatchDetailView(BatchAPIView):
    @extend_schema(
        operation_id="certificate_batch_retrieve",
        tags=TAGS,
        parameters=[OpenApiParameter("batch_id", int, OpenApiParameter.PATH, description="The batch's id.")],
        responses=BatchDetailSerializer,
        description="A batch's progress and its per-row results so far.",
    )
    def get(self, request, batch_id: int):
        batch = _batches().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound(f"no batch {batch_id} here")
        return Response(BatchDetailSerializer(batch).data)
