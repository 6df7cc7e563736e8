"""/api/cas/{ca}/profiles: what each CA may issue. Everyone may read; admins create, change, delete
(through pki.profile_services, which checks every value and records the change)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.certificates.api.pki import serializers as s
from apps.certificates.api.pki.views import PkiAPIView
from apps.certificates.models import CertificateProfile
from apps.certificates.pki.ca_selectors import profile_get, profile_list
from apps.certificates.pki.profile_services import profile_create, profile_delete, profile_update
from certmate.actors import request_actor

TAGS = ["profiles"]


def profile_response(profile: CertificateProfile, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.ProfileSerializer(profile).data, status=code)


class ProfileListView(PkiAPIView):
    serializer_class = s.ProfileSerializer

    @extend_schema(tags=TAGS, responses=s.ProfileSerializer(many=True), summary="A CA's profiles")
    def get(self, request, ca):
        return self.listed(profile_list(authority=self.get_authority()), s.ProfileSerializer)

    @extend_schema(
        tags=TAGS,
        request=s.ProfileSerializer,
        responses={201: s.ProfileSerializer},
        summary="Add a profile to a CA (admin)",
        description="Fields left out take their defaults: kind client, no SAN types, 365 days (at most 825), "
        "server-side keys and CSRs allowed. A name the CA already has: 409 name_taken.",
    )
    def post(self, request, ca):
        authority = self.get_authority()
        data = dict(self.validated(s.ProfileSerializer))
        name = data.pop("name")
        profile = profile_create(authority=authority, name=name, actor=request_actor(request), **data)
        return profile_response(profile_get(authority=authority, name=profile.name), status.HTTP_201_CREATED)


class ProfileDetailView(PkiAPIView):
    serializer_class = s.ProfileUpdateSerializer

    def get_profile(self) -> CertificateProfile:
        return profile_get(authority=self.get_authority(), name=self.kwargs["profile"])

    @extend_schema(tags=TAGS, responses=s.ProfileSerializer, summary="A profile")
    def get(self, request, ca, profile):
        return profile_response(self.get_profile())

    @extend_schema(
        tags=TAGS,
        request=s.ProfileUpdateSerializer,
        responses=s.ProfileSerializer,
        summary="Change a profile (admin)",
        description="Only the fields given change (the name stays). What the CA issues from now on follows it, "
        "renewals included.",
    )
    def patch(self, request, ca, profile):
        found = self.get_profile()
        form = s.ProfileUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        return profile_response(profile_update(profile=found, actor=request_actor(request), **form.validated_data))

    @extend_schema(
        tags=TAGS,
        responses={204: None},
        summary="Delete a profile (admin)",
        description="Refused with 409 in_use while certificates use it (their renewals follow it).",
    )
    def delete(self, request, ca, profile):
        profile_delete(profile=self.get_profile(), actor=request_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
