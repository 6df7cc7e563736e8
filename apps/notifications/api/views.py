"""/api/notifications: channels (everyone reads, admins change, test, rotate and unflag) and the delivery
log (everyone reads). Thin: serializers shape, services act, certmate.api.exceptions answers errors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.notifications.api import serializers as s
from apps.notifications.selectors import channel_get, channels_list, deliveries_list
from apps.notifications.services import channel_delete, channel_rotate_secret, channel_test, channel_unflag
from certmate.actors import request_actor
from certmate.api.views import TenantViewSet

# Channels are the tenant's configuration, like its accounts and settings: admins change them.
ADMIN_WRITES = {"POST": Role.ADMIN, "PUT": Role.ADMIN, "PATCH": Role.ADMIN, "DELETE": Role.ADMIN}


@extend_schema(tags=["notifications"])
class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Where certmate tells about certificates: e-mail lists, webhooks, chat and push services. Everyone reads
    (never a target or secret); admins change them."""

    required_roles = ADMIN_WRITES
    serializer_class = s.ChannelSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return channels_list()

    def get_object(self):
        channel = channel_get(pk=self.kwargs["pk"])  # NotFound → 404, whichever tenant owns that id
        self.check_object_permissions(self.request, channel)
        return channel

    @extend_schema(responses={201: s.ChannelCreatedSerializer})
    def create(self, request, *args, **kwargs):
        given = s.ChannelSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        channel = given.save()
        return Response(s.ChannelCreatedSerializer(channel).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        channel_delete(channel=instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses=s.DeliveryOutcomeSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test notice now; 200 with what the destination did (delivered, or failed and why)."""
        delivery = channel_test(channel=self.get_object(), actor=request_actor(request))
        return Response(s.DeliveryOutcomeSerializer(delivery).data)

    @extend_schema(request=None, responses=s.SecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A webhook's new signing key, shown in this answer only; the old one stops working now."""
        channel = self.get_object()
        secret = channel_rotate_secret(channel=channel, actor=request_actor(request))
        return Response({"id": channel.pk, "secret": secret})

    @extend_schema(request=None, responses=s.ChannelSerializer)
    @action(detail=True, methods=["post"])
    def unflag(self, request, pk=None):
        """Clear a flagged channel's failures: it is told things again."""
        channel = channel_unflag(channel=self.get_object(), actor=request_actor(request))
        return Response(s.ChannelSerializer(channel).data)


@extend_schema(tags=["notifications"], parameters=[s.DeliveryFilterSerializer])
class DeliveryViewSet(mixins.ListModelMixin, TenantViewSet):
    """Each notice sent to each channel, newest first: status, attempts, the destination's answer, why it
    failed. Page it with ?limit= or ?page=."""

    serializer_class = s.DeliverySerializer

    def get_queryset(self):
        given = self.validated(s.DeliveryFilterSerializer, data=self.request.query_params)
        channel = channel_get(pk=given["channel"]) if "channel" in given else None
        return deliveries_list(channel=channel, status=given.get("status"), kind=given.get("kind"))
