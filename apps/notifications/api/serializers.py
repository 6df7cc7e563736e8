"""Shapes of /api/notifications. A channel's target (webhook or Apprise URL, tokens inside) and its
webhook secret are write-only: reads show ``target_hint`` (scheme and host); the secret is in the answer
that made or rotated it, nowhere else. Inputs are bounded here; the services check their formats."""

from __future__ import annotations

from rest_framework import serializers

from apps.certificates.models import CertificateKind
from apps.notifications.kinds import CHOOSABLE_KINDS, ChannelKind, DeliveryStatus, NoticeKind
from apps.notifications.models import Delivery, NotificationChannel
from apps.notifications.services import channel_create, channel_update
from apps.notifications.services.channels import MAX_FILTERS, MAX_RECIPIENTS
from certmate.actors import request_actor
from certmate.api.fields import IntegerField

MAX_TARGET = 2048  # apps.notifications.targets checks it too, with the URL's format


def _bounded_list(child: serializers.Field, *, help_text: str, max_length: int = MAX_FILTERS) -> serializers.ListField:
    return serializers.ListField(child=child, max_length=max_length, required=False, help_text=help_text)


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as everyone reads it: never its target or secret."""

    id = IntegerField(read_only=True, help_text="The channel's id")
    name = serializers.CharField(max_length=100, help_text="A unique name")
    kind = serializers.ChoiceField(ChannelKind.choices, help_text="email, webhook or apprise (chat and push services)")
    enabled = serializers.BooleanField(required=False, help_text="Whether it is told anything (default true)")
    target = serializers.CharField(
        max_length=MAX_TARGET,
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        style={"input_type": "password"},
        help_text="webhook: its https:// URL; apprise: the Apprise URL (slack://…, ntfys://…). Write-only, never "
        "returned; on update, omitted or empty keeps the stored one",
    )
    recipients = _bounded_list(
        serializers.EmailField(max_length=254),
        max_length=MAX_RECIPIENTS,
        help_text=f"email: who receives it (at most {MAX_RECIPIENTS} addresses)",
    )
    events = _bounded_list(
        serializers.ChoiceField(CHOOSABLE_KINDS),
        help_text="What it is told about (default: every event but the opt-in key_downloaded and digest)",
    )
    certificate_kinds = _bounded_list(
        serializers.ChoiceField(CertificateKind.choices),
        help_text="Only certificates of these kinds (empty: both)",
    )
    issuers = _bounded_list(
        serializers.CharField(max_length=200),
        help_text="Only certificates from these issuers: CA account or private CA names (empty: all)",
    )
    name_patterns = _bounded_list(
        serializers.CharField(max_length=253),
        help_text="Only certificates whose identifier matches one of these shell patterns, e.g. *.example.com "
        "(empty: all)",
    )

    class Meta:
        model = NotificationChannel
        fields = [
            "id", "name", "kind", "enabled", "target", "target_hint", "recipients", "events", "certificate_kinds",
            "issuers", "name_patterns", "flagged_at", "consecutive_failures", "last_error", "last_delivery_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "target_hint", "flagged_at", "consecutive_failures", "last_error", "last_delivery_at", "created_at",
            "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "target_hint": {"help_text": "Where it goes, for people: scheme and host (the URL itself is secret)"},
            "flagged_at": {"help_text": "When it was flagged for failing again and again (null: not flagged)"},
            "consecutive_failures": {"help_text": "Deliveries failed in a row since the last one that worked"},
            "last_error": {"help_text": "Why the last delivery failed, in one line"},
            "last_delivery_at": {"help_text": "When a delivery last arrived"},
            "created_at": {"help_text": "When the channel was made"},
            "updated_at": {"help_text": "When it last changed"},
        }

    def create(self, validated_data):
        channel, secret = channel_create(**validated_data, actor=request_actor(self.context["request"]))
        channel.new_secret = secret
        return channel

    def update(self, instance, validated_data):
        return channel_update(channel=instance, **validated_data, actor=request_actor(self.context["request"]))


class ChannelCreatedSerializer(ChannelSerializer):
    secret = serializers.CharField(
        source="new_secret",
        read_only=True,
        allow_null=True,
        help_text="webhook: the HMAC-SHA256 key that signs its requests. Shown in this answer only: keep it now "
        "(null for other kinds)",
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    id = IntegerField(help_text="The channel's id")
    secret = serializers.CharField(help_text="The new HMAC-SHA256 key, shown in this answer only; the old one is void")


class DeliverySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(
        NoticeKind.choices, source="notice.kind", read_only=True, help_text="The event it told about"
    )
    identifier = serializers.CharField(
        source="notice.identifier", read_only=True, help_text="The certificate (or CA) it was about, if any"
    )
    channel = IntegerField(source="channel_id", read_only=True, help_text="The channel's id")
    channel_name = serializers.CharField(source="channel.name", read_only=True, help_text="The channel's name")

    class Meta:
        model = Delivery
        fields = [
            "id", "delivery_id", "kind", "identifier", "channel", "channel_name", "status", "attempts",
            "response_code", "error", "created_at", "delivered_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The delivery's id"},
            "delivery_id": {"help_text": "Its unique id, also sent to webhooks (to drop a delivery seen twice)"},
            "status": {"help_text": "pending (waiting for its first try or a retry), delivered, failed, skipped"},
            "attempts": {"help_text": "How many times sending was tried"},
            "response_code": {"help_text": "The HTTP status the webhook or service answered, if any"},
            "error": {"help_text": "Why the last attempt failed, in one line"},
            "created_at": {"help_text": "When it was queued"},
            "delivered_at": {"help_text": "When it arrived"},
        }


class DeliveryOutcomeSerializer(serializers.Serializer):
    delivery_id = serializers.UUIDField(help_text="The test delivery's id (in the delivery log too)")
    status = serializers.ChoiceField(DeliveryStatus.choices, help_text="delivered, failed, or pending (a retry)")
    response_code = IntegerField(allow_null=True, help_text="What the destination answered (HTTP status), if any")
    error = serializers.CharField(allow_blank=True, help_text="Why it failed, in one line (empty when delivered)")


class DeliveryFilterSerializer(serializers.Serializer):
    channel = IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="Only this channel's deliveries (its id)"
    )
    status = serializers.ChoiceField(DeliveryStatus.choices, required=False, help_text="Only this status")
    kind = serializers.ChoiceField(NoticeKind.choices, required=False, help_text="Only this event")
