"""CertMate's POST /api/certificates/{domain}/deploy (admins, as CertMate): the current version published
again to the storage target now, answered as CertMate's deploy summary (one "hook": the target)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.certificates.api.views.base import CertificateAPIView
from apps.storage.models import Publication, PublicationState
from apps.storage.services import publication_publish, storage_target_name
from apps.storage.services.deploy import certificate_deploy
from certmate.actors import request_actor

Summary = inline_serializer(
    "CertMateDeploySummary",
    {
        "ok": serializers.BooleanField(help_text="True when the target holds the current version now."),
        "total": serializers.IntegerField(help_text="1: certmate deploys to the tenant's storage target."),
        "succeeded": serializers.IntegerField(help_text="1 when published, else 0."),
        "failed": serializers.IntegerField(help_text="1 when the target refused, else 0."),
        "results": serializers.ListField(
            child=serializers.DictField(),
            help_text="One entry: the target's name, type, backend, success, state, error and version.",
        ),
    },
)


class CertificateDeployView(CertificateAPIView):
    serializer_class = serializers.Serializer

    def required_role(self, request) -> Role:
        return Role.ADMIN

    @extend_schema(
        operation_id="certificates_deploy",
        tags=["certificates"],
        request=None,
        responses=Summary,
        description="certmate runs no deploy hooks: its deploy publishes the current version again to the "
        "tenant's storage target, at once, and answers CertMate's summary (200 even when the target refused: "
        "`ok` false, the reason in `results`; the publish is then retried with backoff).",
    )
    def post(self, request, domain):
        certificate = self.get_certificate()
        publication = certificate_deploy(certificate=certificate, actor=request_actor(request))
        publication_publish(publication_id=publication.pk, retry=False)
        publication = Publication.objects.select_related("target", "version").get(pk=publication.pk)
        published = publication.state == PublicationState.PUBLISHED
        result = {
            "name": storage_target_name(publication.target),
            "type": "storage",
            "backend": publication.target.backend,
            "success": published,
            "state": publication.state,
            "error": publication.last_error or None,
            "version": publication.version.number,
        }
        return Response(
            {
                "ok": published,
                "total": 1,
                "succeeded": int(published),
                "failed": int(not published),
                "results": [result],
            }
        )
