"""A certificate's versions and the jobs that made them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.certificates.api.pagination import JobPagination, VersionPagination
from apps.certificates.api.serializers import (
    JobAcceptedSerializer,
    JobDetailSerializer,
    JobFilterSerializer,
    JobSerializer,
    RevokeSerializer,
    VersionSerializer,
)
from apps.certificates.api.views.base import CertificateAPIView
from apps.certificates.selectors import OPEN_JOB_STATUSES, job_get, job_list, version_list
from apps.certificates.services.revocation import certificate_revoke
from certmate.actors import request_actor


class CertificateVersionsView(CertificateAPIView):
    pagination_class = VersionPagination

    @extend_schema(
        operation_id="certificates_versions",
        tags=["certificates"],
        responses=VersionSerializer(many=True),
        description="Every issuance, newest first: what each certificate says about itself (never the key).",
    )
    def get(self, request, domain):
        certificate = self.get_certificate()
        context = {"request": request, "certificate": certificate}
        return self.listed(version_list(certificate=certificate), VersionSerializer, context)


class CertificateRevokeView(CertificateAPIView):
    serializer_class = RevokeSerializer

    @extend_schema(
        operation_id="certificates_revoke",
        tags=["certificates"],
        request=RevokeSerializer,
        responses={202: JobAcceptedSerializer, 200: JobAcceptedSerializer},
        description="Queues the revocation of the current version (or `version`) at its CA: 202 with the job, "
        "to follow at its status_url (failed, with the CA's reason, when the CA refuses or cannot be reached). "
        "Repeating it is harmless: an open revocation of that version is answered (202), a finished one "
        "with 200. 409 job_open while another job for the certificate is open. Renew (force) to replace a "
        "revoked current version.",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        data = self.validated(RevokeSerializer)
        job = certificate_revoke(
            certificate=certificate,
            reason=data["reason"],
            version_number=data.get("version"),
            actor=request_actor(request),
        )
        answer = status.HTTP_202_ACCEPTED if job.status in OPEN_JOB_STATUSES else status.HTTP_200_OK
        return Response(JobAcceptedSerializer(job, context={"request": request}).data, status=answer)


class JobListView(CertificateAPIView):
    pagination_class = JobPagination

    @extend_schema(
        operation_id="certificate_jobs_list",
        tags=["jobs"],
        parameters=[JobFilterSerializer],
        responses=JobSerializer(many=True),
        description="The tenant's jobs, newest first.",
    )
    def get(self, request):
        filters = self.validated(JobFilterSerializer, request.query_params)
        return self.listed(job_list(**filters), JobSerializer, {"request": request})


class JobDetailView(CertificateAPIView):
    @extend_schema(
        operation_id="certificate_jobs_retrieve",
        tags=["jobs"],
        responses=JobDetailSerializer,
        description="CertMate's job poll: status is queued, running, succeeded or failed.",
    )
    def get(self, request, job_id: int):
        return Response(JobDetailSerializer(job_get(job_id=job_id), context={"request": request}).data)
