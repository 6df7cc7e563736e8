"""CertMate's notification paths over certmate's channels, in CertMate's shapes (admins), so CertMate
clients and scripts keep working:

- GET/POST /api/notifications/config: CertMate's ``notifications`` block read from the tenant's channels
  (every URL masked, the SMTP server the platform's), and written to them through the same mapping as the
  CertMate importer (masked values keep what is stored; a listed webhook list replaces the channels).
- POST /api/notifications/test: ``{"channel_type": "smtp"|"webhook", "config": {"name"}}`` sends a test
  through the tenant's e-mail channel or the named channel (certmate sends only to saved channels).
- POST /api/notifications/webhook/preview: what certmate would POST to a webhook channel (nothing sent).
- POST /api/digest/send: this week's digest now, when some channel subscribes to it.
- GET /api/webhooks/deliveries: certmate's delivery log in CertMate's entry shape, newest first."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.notifications.certmate_shape import CERTMATE_EVENT, EMAIL_CHANNEL, EVENTS, certmate_type, config_from_channels
from apps.notifications.kinds import CHOOSABLE_KINDS, ChannelKind, DeliveryStatus, NoticeKind
from apps.notifications.models import NotificationChannel
from apps.notifications.selectors import channels_list, deliveries_list
from apps.notifications.services import certmate_config_apply, channel_test, digest_request
from apps.notifications.webhook_preview import webhook_preview
from certmate.actors import request_actor
from certmate.api.exceptions import ApiError
from certmate.api.fields import ASCII_INTEGER
from certmate.api.views import TenantAPIView

TAGS = ["notifications"]
DEFAULT_LIMIT, MAX_LIMIT = 50, 500  # CertMate's
_EVENT = re.compile(r"[a-z_]{1,64}")


class CertMateAdminView(TenantAPIView):
    pagination_class = None

    def required_role(self, request) -> Role:
        return Role.ADMIN


def _body(request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ApiError("Body must be a JSON object", "invalid")
    return request.data


def _config(request) -> dict[str, Any]:
    config = _body(request).get("config") or {}
    if not isinstance(config, dict):
        raise ApiError("config must be a JSON object", "invalid")
    return config


def _named(name: Any, kinds: tuple[str, ...]) -> NotificationChannel:
    if not isinstance(name, str) or not name.strip():
        raise ApiError("config.name is required: the name of one of the tenant's channels", "invalid")
    channel = NotificationChannel.objects.filter(name=name.strip()[:100], kind__in=kinds).first()
    if channel is None:
        raise ApiError("no such channel here: see GET /api/notifications/config for the names", "not_found")
    return channel


class ConfigView(CertMateAdminView):
    @extend_schema(operation_id="certmate_notifications_config", tags=TAGS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """CertMate's notifications block, from the tenant's channels (URLs masked, never shown)."""
        return Response(config_from_channels(list(channels_list()), from_address=settings.DEFAULT_FROM_EMAIL))

    @extend_schema(
        operation_id="certmate_notifications_config_save", tags=TAGS, request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def post(self, request):
        """Write CertMate's block to the tenant's channels; what certmate does not keep is listed."""
        plan = certmate_config_apply(actor=request_actor(request), config=_body(request))
        notes = [f"{item}: {why}" for item, why in plan.dropped]
        notes += [f"{planned.item}: {note}" for planned in plan.channels for note in planned.notes]
        return Response({"message": "Notification settings saved", "not_kept": notes})


class TestView(CertMateAdminView):
    @extend_schema(operation_id="certmate_notifications_test", tags=TAGS, request=OpenApiTypes.OBJECT,
                   responses=OpenApiTypes.OBJECT)  # fmt: skip
    def post(self, request):
        """Send a test through the tenant's e-mail channel (smtp) or the named channel (webhook)."""
        channel_type, config = _body(request).get("channel_type"), _config(request)
        if not channel_type:
            raise ApiError("channel_type is required", "invalid")
        if channel_type == "smtp":
            emails = NotificationChannel.objects.filter(kind=ChannelKind.EMAIL).order_by("name")
            channel = emails.filter(name=EMAIL_CHANNEL).first() or emails.first()
            if channel is None:
                raise ApiError("the tenant has no e-mail channel: save one first", "not_found")
        elif channel_type == "webhook":
            channel = _named(config.get("name"), (ChannelKind.WEBHOOK, ChannelKind.APPRISE))
        else:
            raise ApiError(f"Unknown channel type: {str(channel_type)[:40]} (smtp or webhook)", "invalid")
        delivery = channel_test(channel=channel, actor=request_actor(request))
        success = delivery.status == DeliveryStatus.DELIVERED
        answer = {"success": success, "status": delivery.response_code, "channel": channel.name}
        return Response(answer if success else {**answer, "error": delivery.error or "not delivered"})


class PreviewView(CertMateAdminView):
    @extend_schema(operation_id="certmate_notifications_webhook_preview", tags=TAGS, request=OpenApiTypes.OBJECT,
                   responses=OpenApiTypes.OBJECT)  # fmt: skip
    def post(self, request):
        """What certmate would POST to the named webhook channel for a sample event; nothing is sent."""
        config, event = _config(request), _body(request).get("event") or "certificate_renewed"
        if not isinstance(event, str) or not _EVENT.fullmatch(event):
            raise ApiError("event must be a lowercase event name", "invalid")
        kind = EVENTS[event][0] if event in EVENTS else event
        if kind not in CHOOSABLE_KINDS:
            raise ApiError(f"unknown event: use one of {', '.join([*EVENTS, *CHOOSABLE_KINDS])}", "invalid")
        if (config.get("type") or "generic") != "generic":
            raise ApiError(
                "preview renders generic webhooks only; chat services have a fixed body: use Test", "invalid"
            )
        channel = _named(config.get("name"), (ChannelKind.WEBHOOK,)) if config.get("name") else None
        return Response({**webhook_preview(channel=channel, kind=kind), "variables": []})


class DigestSendView(CertMateAdminView):
    @extend_schema(operation_id="certmate_digest_send", tags=TAGS, request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """This week's digest now: queued to every enabled channel that subscribes to it."""
        notice, why = digest_request(actor=request_actor(request))
        if notice is None:
            return Response({"skipped": why})
        return Response({"success": True, "queued": notice.deliveries.count()})


def _limit(raw: str | None) -> int:
    if raw is None or not ASCII_INTEGER.fullmatch(raw.strip()):
        return DEFAULT_LIMIT
    return max(1, min(int(raw), MAX_LIMIT))


class DeliveriesView(CertMateAdminView):
    @extend_schema(
        operation_id="certmate_webhook_deliveries",
        tags=TAGS,
        parameters=[OpenApiParameter("limit", int, description="1 to 500, default 50")],
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    def get(self, request):
        """The delivery log in CertMate's entry shape, newest first (?limit=, 1 to 500, default 50)."""
        rows = deliveries_list()[: _limit(request.query_params.get("limit"))]
        return Response([
            {
                "timestamp": (row.delivered_at or row.created_at).isoformat(),
                "webhook_name": row.channel.name,
                "webhook_type": certmate_type(row.channel),
                "event": CERTMATE_EVENT.get(row.notice.kind, "test" if row.notice.kind == NoticeKind.TEST
                                            else row.notice.kind),
                "url": row.channel.target_hint,
                "status": row.response_code,
                "success": row.status == DeliveryStatus.DELIVERED,
                "attempts": row.attempts,
                "error": row.error or None,
                "duration_ms": None,
                "delivery_id": str(row.delivery_id),
                "delivery_status": row.status,
            }
            for row in rows
        ])  # fmt: skip
