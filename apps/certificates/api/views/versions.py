"""A certificate's versions and the jobs that made them."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.certificates.api.pagination import JobPagination, VersionPagination
from apps.certificates.api.serializers import (
    JobAcceptedSerializer,
    JobDetailSerializer,
    JobFilterSerializer,
    JobSerializer,
    RevokeSerializer,
    UnholdSerializer,
    VersionSerializer,
)
from apps.certificates.api.views.base import CertificateAPIView
from apps.certificates.pki.revoking import private_version_unhold
from apps.certificates.selectors import OPEN_JOB_STATUSES, certificate_version, job_get, job_list, version_list
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


RevokeAnswer = PolymorphicProxySerializer(
    component_name="RevokeAnswer",
    serializers=[JobAcceptedSerializer, VersionSerializer],
    resource_type_field_name=None,
)


def version_answer(request, certificate, version_id: int) -> Response:
    version = version_list(certificate=certificate).get(pk=version_id)
    return Response(VersionSerializer(version, context={"request": request, "certificate": certificate}).data)


class CertificateRevokeView(CertificateAPIView):
    serializer_class = RevokeSerializer

    @extend_schema(
        operation_id="certificates_revoke",
        tags=["certificates"],
        request=RevokeSerializer,
        responses={202: JobAcceptedSerializer, 200: RevokeAnswer},
        description="ACME: queues the revocation of the current version (or `version`) at its CA: 202 with the "
        "job, to follow at its status_url (failed, with the CA's reason, when the CA refuses or cannot be reached). "
        "Repeating it is harmless: an open revocation of that version is answered (202), a finished one with 200. "
        "409 job_open while another job for the certificate is open. Renew (force) to replace a revoked current "
        "version.\n\nA private CA's certificate is revoked at once: 200 with the version as now recorded, listed "
        "in the CA's CRL (signed now) and OCSP. It also takes certificatehold (lifted by POST .../unhold) and "
        "invalidity_date. Asking again with the same reason changes nothing; a hold is made final by another "
        "reason, and keycompromise may replace an earlier reason; anything else about a revoked version is 409 "
        "revoked.",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        data = self.validated(RevokeSerializer)
        job = certificate_revoke(
            certificate=certificate,
            reason=data["reason"],
            version_number=data.get("version"),
            invalidity_date=data.get("invalidity_date"),
            actor=request_actor(request),
        )
        if certificate.is_private:
            return version_answer(request, certificate, job.version_id)
        answer = status.HTTP_202_ACCEPTED if job.status in OPEN_JOB_STATUSES else status.HTTP_200_OK
        return Response(JobAcceptedSerializer(job, context={"request": request}).data, status=answer)


class CertificateUnholdView(CertificateAPIView):
    serializer_class = UnholdSerializer

    @extend_schema(
        operation_id="certificates_unhold",
        tags=["certificates"],
        request=UnholdSerializer,
        responses={200: VersionSerializer},
        description="A private CA's certificate on hold (revoked for certificatehold) is valid again (RFC 5280's "
        "removeFromCRL): it leaves the CA's next CRL, signed now. A version that is not revoked is answered as it "
        "is; one revoked for another reason is 409 revoked (that is final); an ACME certificate is 400 not_private.",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        version = certificate_version(certificate=certificate, number=self.validated(UnholdSerializer).get("version"))
        version = private_version_unhold(version=version, actor=request_actor(request))
        return version_answer(request, certificate, version.pk)


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
        return self.listed(
            self.in_scope(job_list(**filters), "certificate__identifier"), JobSerializer, {"request": request}
        )


class JobDetailView(CertificateAPIView):
    @extend_schema(
        operation_id="certificate_jobs_retrieve",
        tags=["jobs"],
        responses=JobDetailSerializer,
        description="CertMate's job poll: status is queued, running, succeeded or failed.",
    )
    def get(self, request, job_id: int):
        job = job_get(job_id=job_id)
        self.scope_check(job.certificate.identifier, f"no job {job_id}")
        return Response(JobDetailSerializer(job, context={"request": request}).data)
