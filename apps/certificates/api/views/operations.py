"""CertMate's synchronous certificate operations: renew and reissue wait for their job (bounded by
CERTMATE_API_SYNC_WAIT_SECONDS) and answer CertMate's shapes; ``async`` answers 202 with the job at once."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.certificates.acme.resolve import ca_account_resolve, dns_account_resolve
from apps.certificates.api.serializers import JobAcceptedSerializer
from apps.certificates.api.serializers.certmate import CertMateRenewSerializer, ReissueSerializer
from apps.certificates.api.serializers.requests import clean_domain_field
from apps.certificates.api.views.base import CertificateAPIView
from apps.certificates.api.views.waiting import job_finished, wants_async
from apps.certificates.models import Certificate, Job, JobStatus
from apps.certificates.services import certificate_request
from apps.certificates.services.requests import CertificateRequestError, certificate_renew
from certmate.actors import request_actor
from certmate.api.exceptions import status_of
from certmate.api.fields import IntegerField

TAGS = ["certificates"]


def _outcome(name: str, *, renewed: bool) -> serializers.Serializer:
    fields = {
        "message": serializers.CharField(help_text="What happened, in a sentence."),
        "domain": serializers.CharField(help_text="The certificate's domain."),
        "dns_provider": serializers.CharField(allow_null=True, help_text="The DNS provider it validated with."),
        "ca_provider": serializers.CharField(allow_null=True, help_text="The CA account it was ordered with."),
        "duration": serializers.FloatField(allow_null=True, help_text="Seconds the order took (null: none ran)."),
        "job_id": IntegerField(allow_null=True, help_text="certmate's job that did it (null: none ran)."),
    }
    if renewed:
        fields["renewed"] = serializers.BooleanField(help_text="False when it was not due (nothing was replaced).")
    return inline_serializer(name, fields)


RenewOutcome = _outcome("CertMateRenewed", renewed=True)
ReissueOutcome = _outcome("CertMateReissued", renewed=False)
Failed = inline_serializer(
    "CertMateOperationFailed",
    {
        "error": serializers.CharField(help_text="Why the CA did not issue it (the previous certificate stays)."),
        "code": serializers.CharField(help_text="renewal_failed or reissue_failed"),
        "job_id": IntegerField(help_text="The failed job."),
    },
)


def outcome(certificate: Certificate, message: str, job: Job | None, **extra) -> dict:
    return {
        "message": message,
        "domain": certificate.identifier,
        **extra,
        "dns_provider": certificate.dns_account.provider if certificate.dns_account_id else None,
        "ca_provider": certificate.ca_account.name if certificate.ca_account_id else None,
        "duration": job.duration_seconds if job is not None else None,
        "job_id": job.pk if job is not None else None,
    }


def failed(job: Job, what: str, code: str) -> Response:
    body = {"error": f"{what} of {job.certificate.identifier} failed: {job.error}", "code": code, "job_id": job.pk}
    return Response(body, status=status_of(code))


def finished_or_accepted(view, queued: Job, body: dict):
    """(the finished job, None) after waiting, or (None, a 202 answer with the job as it stands)."""
    job = job_finished(queued, asynchronous=wants_async(view.request, body))
    if job is None:
        data = JobAcceptedSerializer(queued, context={"request": view.request}).data
        return None, Response(data, status=status.HTTP_202_ACCEPTED)
    return job, None


class CertificateRenewView(CertificateAPIView):
    serializer_class = CertMateRenewSerializer

    @extend_schema(
        operation_id="certificates_renew",
        tags=TAGS,
        request=CertMateRenewSerializer,
        responses={200: RenewOutcome, 202: JobAcceptedSerializer, 422: Failed},
        description="CertMate's renew: waits for the renewal (up to CERTMATE_API_SYNC_WAIT_SECONDS) and answers 200 "
        "with `renewed: true`; not due yet (without `force`): 200 with `renewed: false` and nothing ordered; the "
        "CA refused: 422 (the previous certificate stays). With `async` (or when the wait runs out): 202 with the "
        "job. An open job for it is joined, not doubled.",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        data = self.validated(CertMateRenewSerializer)
        try:
            queued, _ = certificate_renew(certificate=certificate, force=data["force"], actor=request_actor(request))
        except CertificateRequestError as exc:
            if exc.code != "not_due":
                raise
            message = f"Certificate not yet due for renewal: {certificate.identifier}"
            return Response(outcome(certificate, message, None, renewed=False))
        job, accepted = finished_or_accepted(self, queued, data)
        if accepted is not None:
            return accepted
        if job.status != JobStatus.SUCCEEDED:
            return failed(job, "renewal", "renewal_failed")
        message = f"Certificate renewed successfully for {certificate.identifier}"
        return Response(outcome(certificate, message, job, renewed=True))


class CertificateReissueView(CertificateAPIView):
    serializer_class = ReissueSerializer

    @extend_schema(
        operation_id="certificates_reissue",
        tags=TAGS,
        request=ReissueSerializer,
        responses={200: ReissueOutcome, 202: JobAcceptedSerializer, 422: Failed},
        description="CertMate's reissue: change the certificate's names, key or accounts (what is left out stays) "
        "and order it again now, due or not; waits like renew and answers 200, 422 when the CA refused (the "
        "previous certificate stays served until the new one is whole), or 202 with the job (`async`).",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        data = self.validated(ReissueSerializer)
        san_domains = data.get("san_domains")
        if san_domains is not None:
            san_domains = [clean_domain_field(name) for name in san_domains]
            self.scope_require([certificate.identifier, *san_domains])
        dns_named = data.get("account_id") or data.get("dns_provider")
        queued = certificate_request(
            identifier=certificate.identifier,
            san_domains=san_domains,
            key_type=data.get("key_type"),
            ca_account=ca_account_resolve(account=data.get("ca_provider")) if data.get("ca_provider") else None,
            dns_account=(
                dns_account_resolve(account=data.get("account_id"), provider=data.get("dns_provider"))
                if dns_named
                else None
            ),
            challenge=data.get("challenge_type"),
            actor=request_actor(request),
        )
        job, accepted = finished_or_accepted(self, queued, data)
        if accepted is not None:
            return accepted
        if job.status != JobStatus.SUCCEEDED:
            return failed(job, "reissue", "reissue_failed")
        certificate.refresh_from_db()
        return Response(outcome(certificate, f"Certificate reissued successfully for {certificate.identifier}", job))
