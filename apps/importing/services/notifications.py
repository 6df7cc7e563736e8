"""CertMate's ``notifications`` block as the tenant's channels, through the same mapping and channel
services as POST /api/notifications/config: its e-mail recipients an e-mail channel (sent through the
platform's mail server), its webhooks webhook or Apprise channels. Each channel by its own source key, so
a second run changes nothing; what certmate does not keep is reported, item by item."""

from __future__ import annotations

from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome
from apps.notifications.certmate_shape import Planned, ShapeError, plan_from_certmate
from apps.notifications.models import NotificationChannel
from apps.notifications.services.certmate_config import channel_put

ITEM = "settings.json: notifications"


def notifications_import(run: ImportRun) -> None:
    config = run.settings.get("notifications")
    if config is None:
        return
    try:
        plan = plan_from_certmate(config)
    except ShapeError as exc:
        run.report.add(ITEM, Outcome.ATTENTION, f"not read ({exc}): set up the tenant's channels again")
        return
    if not plan.channels and not plan.dropped:
        run.report.add(ITEM, Outcome.SKIPPED, "empty or disabled in CertMate")
    for planned in plan.channels:
        if run.each(f"{ITEM}{planned.item.removeprefix('notifications')}", lambda p=planned: _channel(run, p)):
            for note in planned.notes:
                run.report.add(
                    f"{ITEM}{planned.item.removeprefix('notifications')} (not kept)", Outcome.ATTENTION, note
                )
    for item, why in plan.dropped:
        run.report.add(f"{ITEM}{item.removeprefix('notifications')}", Outcome.ATTENTION, why)
    for key in sorted(set(config) - {"enabled", "events", "channels", "digest_enabled"}):
        run.report.add(f"{ITEM}.{str(key)[:100]}", Outcome.SKIPPED, "a CertMate setting certmate has no place for")


def _channel(run: ImportRun, planned: Planned) -> tuple[Outcome, str]:
    what = f"the {planned.kind} channel {planned.name!r}"
    if planned.keep_target:
        return Outcome.ATTENTION, f"its URL or token is masked in this backup: add {what} in the portal"
    key = f"notification:{planned.name}"
    digest = content_hash(planned.fields())
    channel = run.target_of(key, NotificationChannel)
    if channel is not None and run.same_as_before(key, digest):
        return Outcome.UNCHANGED, f"{what} (imported before)"
    if channel is None and NotificationChannel.objects.filter(name=planned.name).exists():
        return Outcome.ATTENTION, f"the tenant already has a channel named {planned.name!r}: kept as it is"
    channel = channel_put(actor=run.actor, planned=planned, channel=channel)
    run.remember(key, "notification_channel", digest, channel)
    state = "" if channel.enabled else " (disabled, as in CertMate)"
    return Outcome.IMPORTED, f"{what}{state}: send a test from the portal"
