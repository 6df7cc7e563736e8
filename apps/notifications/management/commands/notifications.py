from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.notifications.kinds import DeliveryStatus
from apps.notifications.outcomes import delivery_outcome
from apps.notifications.selectors import channels_list, deliveries_list
from apps.notifications.services import channel_test
from certmate.actors import Actor


def _state(channel) -> str:
    if channel.flagged_at:
        return f"FLAGGED ({channel.consecutive_failures} failures: {channel.last_error})"
    if not channel.enabled:
        return "disabled"
    return f"failing ({channel.consecutive_failures}: {channel.last_error})" if channel.consecutive_failures else "ok"


class Command(BaseCommand):
    help = "A tenant's notification channels: list them, send one a test notice, read the delivery log."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the channels, where they go (never their URL) and their state")
        listing.add_argument("--tenant", required=True)
        test = sub.add_parser("test", help="send a channel a test notice now and say what happened")
        test.add_argument("name", help="the channel's name")
        test.add_argument("--tenant", required=True)
        log = sub.add_parser("deliveries", help="the delivery log, newest first")
        log.add_argument("--tenant", required=True)
        log.add_argument("--failed", action="store_true", help="only deliveries that failed for good")
        log.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    def handle(self, *args, action, tenant, **options):
        with in_tenant(tenant):
            try:
                getattr(self, f"_{action}")(**options)
            except ValidationError as exc:
                raise command_error(exc) from None

    def _list(self, **_):
        for channel in channels_list():
            where = ", ".join(channel.recipients) if channel.kind == "email" else channel.target_hint
            self.stdout.write(f"{channel.name}\t{channel.kind}\t{where}\t{_state(channel)}")

    def _test(self, *, name, **_):
        channel = channels_list().filter(name=name).first()
        if channel is None:
            raise CommandError(f"no channel named {name!r} (see `manage.py notifications list`)")
        level, text = delivery_outcome(channel, channel_test(channel=channel, actor=Actor.command()))
        if level != messages.SUCCESS:
            raise CommandError(text)
        self.stdout.write(text)

    def _deliveries(self, *, failed, limit, **_):
        rows = deliveries_list(status=DeliveryStatus.FAILED if failed else None)
        for delivery in rows.select_related("notice", "channel")[: max(limit, 0)]:
            code = f" HTTP {delivery.response_code}" if delivery.response_code else ""
            self.stdout.write(
                f"{delivery.created_at:%Y-%m-%d %H:%M:%S}\t{delivery.notice.kind}\t{delivery.notice.identifier or '-'}"
                f"\t{delivery.channel.name}\t{delivery.status}\t{delivery.attempts}{code}\t{delivery.error}"
            )
