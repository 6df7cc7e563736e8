"""CertMate's ``notifications`` block written as certmate's channels (POST /api/notifications/config and
the CertMate importer): each channel it names made or changed through the channel services, by name."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.notifications.certmate_shape import Plan, Planned, ShapeError, plan_from_certmate
from apps.notifications.kinds import ChannelKind
from apps.notifications.models import NotificationChannel
from apps.notifications.services.channels import channel_create, channel_delete, channel_update
from certmate.actors import Actor


def channel_put(*, actor: Actor, planned: Planned, channel: NotificationChannel | None) -> NotificationChannel:
    """Make ``planned`` (or change ``channel`` to it). A masked target keeps the stored one; ValidationError
    naming the field when it cannot be (a masked target for a new channel, another kind under that name)."""
    if channel is None:
        if planned.keep_target:
            raise ValidationError(
                {"target": f"{planned.item}: its URL or token is masked (********): give the real one"},
                code="invalid",
            )
        return channel_create(actor=actor, **planned.fields())[0]
    if channel.kind != planned.kind:
        raise ValidationError(
            {"name": f"{planned.item}: the channel {channel.name!r} is a {channel.kind} channel: rename one of them"},
            code="invalid",
        )
    fields = planned.fields()
    del fields["kind"]
    return channel_update(actor=actor, channel=channel, **fields)


def _planned(config: Any) -> Plan:
    try:
        return plan_from_certmate(config)
    except ShapeError as exc:
        raise ValidationError({"notifications": str(exc)}, code="invalid") from None


@transaction.atomic
def certmate_config_apply(*, actor: Actor, config: Any) -> Plan:
    """Write CertMate's block: its e-mail channel and webhooks made or changed by name; when it lists
    webhooks, the tenant's webhook and Apprise channels it does not list are deleted (CertMate replaces its
    list as a whole). The plan says what was not kept. ValidationError (nothing written) when any fails."""
    plan = _planned(config)
    existing = {channel.name: channel for channel in NotificationChannel.objects.select_for_update()}
    for planned in plan.channels:
        channel_put(actor=actor, planned=planned, channel=existing.get(planned.name))
    if plan.webhooks_given:
        named = {planned.name for planned in plan.channels}
        for channel in existing.values():
            if channel.kind != ChannelKind.EMAIL and channel.name not in named:
                channel_delete(actor=actor, channel=channel)
    return plan
