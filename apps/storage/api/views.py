"""/api/storage: the tenant's storage target (admin), its connection test, and what is published."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.storage.api import serializers as s
from apps.storage.backends.base import StorageError
from apps.storage.models import Publication, PublicationState
from apps.storage.services import storage_config_active, storage_config_set, storage_config_test, storage_target_name
from certmate.actors import request_actor
from certmate.api.exceptions import ApiError
from certmate.api.views import TenantAPIView, TenantViewSet


def _unreachable(exc: StorageError) -> ApiError:
    return ApiError(exc.reason, "storage_unreachable" if exc.transient else "storage_refused")


def _shown(config):
    config.target = storage_target_name(config)
    return s.StorageConfigSerializer(config).data


@extend_schema(tags=["storage"])
class StorageView(TenantAPIView):
    """The active storage target. Changing it tests the new target first, switches, and queues every
    certificate's current version for it."""

    def required_role(self, request) -> Role:
        return Role.ADMIN

    @extend_schema(responses=s.StorageConfigSerializer)
    def get(self, request):
        return Response(_shown(storage_config_active()))

    @extend_schema(request=s.StorageConfigInputSerializer, responses=s.StorageConfigSerializer)
    def put(self, request):
        data = self.validated(s.StorageConfigInputSerializer)  # no credentials: the active target's kept
        try:
            config = storage_config_set(**data, actor=request_actor(request))
        except StorageError as exc:
            raise _unreachable(exc) from None
        return Response(_shown(config))


@extend_schema(tags=["storage"])
class StorageTestView(TenantAPIView):
    """Test the connection to the active target (502 with the reason when it fails)."""

    def required_role(self, request) -> Role:
        return Role.ADMIN

    @extend_schema(request=None, responses=s.StorageTestSerializer)
    def post(self, request):
        config = storage_config_active()
        try:
            storage_config_test(config=config, actor=request_actor(request))
        except StorageError as exc:
            raise _unreachable(exc) from None
        return Response({"ok": True, "target": storage_target_name(config)})


@extend_schema(
    tags=["storage"],
    parameters=[OpenApiParameter("state", str, enum=PublicationState.values, description="only this state")],
)
class PublicationViewSet(mixins.ListModelMixin, TenantViewSet):
    """Where each version is published and in what state (the reason when it is not)."""

    serializer_class = s.PublicationSerializer

    def get_queryset(self):
        queryset = Publication.objects.select_related("version__certificate", "target").order_by("-created_at")
        state = self.request.query_params.get("state")
        if state and state not in PublicationState.values:
            raise ApiError(f"state must be one of {', '.join(PublicationState.values)}", "invalid")
        return queryset.filter(state=state) if state else queryset
