"""Certificates: list, ask for (certmate's POST and CertMate's /create), read, change, delete, renew."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.certificates.acme.resolve import ca_account_resolve, dns_account_resolve
from apps.certificates.api.pagination import CertificatePagination
from apps.certificates.api.pki.issuing import PrivateCertificateRequestSerializer, is_private_request, private_issue
from apps.certificates.api.serializers import (
    AutoRenewSerializer,
    CertificateFilterSerializer,
    CertificateRequestSerializer,
    CertificateSerializer,
    CertificateUpdateSerializer,
    CertMateCreatedSerializer,
    JobAcceptedSerializer,
    listing_context,
)
from apps.certificates.api.views.base import CertificateAPIView
from apps.certificates.api.views.waiting import job_finished, wants_async
from apps.certificates.models import Certificate, Job, JobStatus
from apps.certificates.selectors import certificate_list
from apps.certificates.services import certificate_request
from apps.certificates.services.certificates import certificate_auto_renew_set, certificate_delete, certificate_update
from apps.certificates.services.requests import CertificateRequestError
from certmate.actors import Actor, request_actor
from certmate.api.exceptions import status_of
from certmate.api.fields import IntegerField

TAGS = ["certificates"]
EXISTS_HINT = "Use renew to refresh it, or POST /api/certificates/<domain>/reissue to change its configuration."


def requested_names(data: dict) -> list[str]:
    """Every name a certificate request would put in a certificate (what a token's scope must allow)."""
    dns_alt_names = [name[4:] for name in data.get("alt_names") or () if name[:4].upper() == "DNS:"]
    first = data.get("name") or data.get("domain") or "(a name chosen by certmate)"
    return [first, *(data.get("san_domains") or ()), *dns_alt_names]


def request_from(data: dict, *, actor: Actor, **options) -> Job:
    """certificate_request with the API's account vocabulary resolved (both certmate's and CertMate's)."""
    return certificate_request(
        **options,
        identifier=data["domain"],
        san_domains=data.get("san_domains"),
        key_type=data.get("key_type"),
        ca_account=ca_account_resolve(account=data.get("ca_account") or data.get("ca_provider")),
        dns_account=dns_account_resolve(
            account=data.get("dns_account") or data.get("account_id"), provider=data.get("dns_provider")
        ),
        auto_renew=data.get("auto_renew"),
        renew_before_days=data.get("renew_before_days"),
        challenge=data.get("challenge"),
        webroot=data.get("webroot"),
        acme_profile=data.get("acme_profile"),
        fallback_ca_accounts=data.get("fallback_ca_accounts"),
        actor=actor,
    )


def accepted(job: Job, request) -> Response:
    return Response(JobAcceptedSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


def certificate_response(certificate: Certificate, request, *, serializer=CertificateSerializer, **context) -> Response:
    return Response(serializer(certificate, context={**listing_context(request), **context}).data)


RequestBody = PolymorphicProxySerializer(
    component_name="CertificateRequestBody",
    serializers=[CertificateRequestSerializer, PrivateCertificateRequestSerializer],
    resource_type_field_name=None,
)
PRIVATE_DESCRIPTION = (
    " With `issuer` naming one of the tenant's private CAs (and a `profile` of it), the certificate is signed at "
    "once under the profile's rules and answered 201; a request the profile refuses is a 400 naming the rule."
)


def private_created(view, request, *, serializer=CertificateSerializer) -> Response:
    """A request naming a private CA: issued now, answered 201 with the certificate."""
    data = view.validated(PrivateCertificateRequestSerializer)
    view.scope_require(requested_names(data))
    certificate = private_issue(data, actor=request_actor(request))
    certificate = certificate_list().get(pk=certificate.pk)
    job = certificate.jobs.order_by("-pk").first()
    response = certificate_response(certificate, request, serializer=serializer, job=job)
    response.status_code = status.HTTP_201_CREATED
    return response


IssuanceFailed = inline_serializer(
    "IssuanceFailed",
    {
        "error": serializers.CharField(help_text="Why the CA did not issue it."),
        "code": serializers.CharField(help_text="issuance_failed"),
        "job_id": IntegerField(help_text="The failed job."),
    },
)
Deleted = inline_serializer(
    "CertificateDeleted",
    {
        "message": serializers.CharField(help_text="What happened, in a sentence."),
        "domain": serializers.CharField(help_text="The deleted certificate's domain."),
    },
)


class CertificateListView(CertificateAPIView):
    pagination_class = CertificatePagination
    serializer_class = CertificateRequestSerializer  # what POST takes (OPTIONS describes it)

    @extend_schema(
        operation_id="certificates_list",
        tags=TAGS,
        parameters=[CertificateFilterSerializer],
        responses=CertificateSerializer(many=True),
        summary="List the tenant's certificates",
        description="Every certificate in one answer (CertMate clients expect all), as "
        '`{"certificates": [...], "count": N}`; paged with limit/offset or page/page_size.',
    )
    def get(self, request):
        params = dict(self.validated(CertificateFilterSerializer, request.query_params))
        params["expiring_within_days"] = params.pop("expiring_within", None)
        rows = self.in_scope(certificate_list(**params))
        return self.listed(rows, CertificateSerializer, listing_context(request))

    @extend_schema(
        operation_id="certificates_request",
        tags=TAGS,
        request=RequestBody,
        responses={201: CertificateSerializer, 202: JobAcceptedSerializer},
        summary="Ask for a certificate (answers at once with the job)",
        description="Creates the certificate (or updates its names, key type and accounts) and queues its "
        "issuance. While a job for it is open, that job is answered; with other names or key type, 409. "
        "A name a private CA's certificate holds: 409 private_certificate." + PRIVATE_DESCRIPTION,
    )
    def post(self, request):
        if is_private_request(request.data):
            return private_created(self, request)
        data = self.validated(CertificateRequestSerializer)
        self.scope_require(requested_names(data))
        return accepted(request_from(data, actor=request_actor(request)), request)


class CertMateCreateView(CertificateAPIView):
    serializer_class = CertificateRequestSerializer

    @extend_schema(
        operation_id="certificates_create",
        tags=TAGS,
        request=RequestBody,
        responses={201: CertMateCreatedSerializer, 202: JobAcceptedSerializer, 502: IssuanceFailed},
        summary="Create a certificate (CertMate's endpoint)",
        description="With `async: true` (or `?async=true`): 202 with the job at once. Otherwise waits for the "
        "job (up to CERTMATE_API_SYNC_WAIT_SECONDS, default 300): 201 with the certificate, 502 with the "
        "CA's error, or 202 with the job when it is still running." + PRIVATE_DESCRIPTION,
    )
    def post(self, request):
        if is_private_request(request.data):
            return private_created(self, request, serializer=CertMateCreatedSerializer)
        data = self.validated(CertificateRequestSerializer)
        self.scope_require(requested_names(data))
        try:
            queued = request_from(data, actor=request_actor(request), refuse_issued=True)
        except CertificateRequestError as exc:
            if exc.code != "exists":
                raise
            body = {"error": exc.messages[0], "code": exc.code, "hint": EXISTS_HINT}  # CertMate's hint
            return Response(body, status=status_of(exc.code))
        job = job_finished(queued, asynchronous=wants_async(request, data))
        if job is None:
            return accepted(queued, request)
        if job.status == JobStatus.SUCCEEDED:
            certificate = certificate_list().get(pk=job.certificate_id)
            response = certificate_response(certificate, request, serializer=CertMateCreatedSerializer, job=job)
            response.status_code = status.HTTP_201_CREATED
            return response
        body = {"error": f"issuance failed: {job.error}", "code": "issuance_failed", "job_id": job.pk}
        return Response(body, status=status_of("issuance_failed"))


class CertificateDetailView(CertificateAPIView):
    serializer_class = CertificateUpdateSerializer

    @extend_schema(operation_id="certificates_retrieve", tags=TAGS, responses=CertificateSerializer)
    def get(self, request, domain):
        return certificate_response(self.get_certificate(), request)

    @extend_schema(
        operation_id="certificates_update",
        tags=TAGS,
        request=CertificateUpdateSerializer,
        responses=CertificateSerializer,
        description="Accounts, key type, challenge, webroot and ACME profile apply from the next order (refused "
        "with 409 while a job is open; a profile the CA account's directory does not offer is a 400 listing those it "
        "does); renew_before_days moves the next renewal at once.",
    )
    def patch(self, request, domain):
        certificate = self.get_certificate()
        data = self.validated(CertificateUpdateSerializer)
        changed = ("key_type", "auto_renew", "renew_before_days", "acme_profile", "challenge", "webroot",
                   "fallback_ca_accounts")  # fmt: skip
        changes = {name: data[name] for name in changed if name in data}
        if data.get("ca_account"):
            changes["ca_account"] = ca_account_resolve(account=data["ca_account"])
        if data.get("dns_account") or data.get("dns_provider"):
            changes["dns_account"] = dns_account_resolve(
                account=data.get("dns_account"), provider=data.get("dns_provider")
            )
        certificate = certificate_update(certificate=certificate, actor=request_actor(request), **changes)
        return certificate_response(certificate, request)

    @extend_schema(
        operation_id="certificates_destroy",
        tags=TAGS,
        responses=Deleted,
        description="Deletes it with its versions and jobs; 409 while a job for it is open.",
    )
    def delete(self, request, domain):
        certificate = self.get_certificate()
        certificate_delete(certificate=certificate, actor=request_actor(request))
        return Response(
            {"message": f"Certificate deleted for {certificate.identifier}", "domain": certificate.identifier}
        )


class CertificateAutoRenewView(CertificateAPIView):
    serializer_class = AutoRenewSerializer

    @extend_schema(
        operation_id="certificates_auto_renew",
        tags=TAGS,
        request=AutoRenewSerializer,
        responses=CertificateSerializer,
    )
    def put(self, request, domain):
        certificate = self.get_certificate()
        enabled = self.validated(AutoRenewSerializer)["enabled"]
        actor = request_actor(request)
        certificate = certificate_auto_renew_set(certificate=certificate, enabled=enabled, actor=actor)
        return certificate_response(certificate, request)
