"""Notification channels in the tenant's admin, written through the services like the API's: the target
URL write-only, a webhook's signing secret shown once on the page that answers (never stored where it
could be shown again, never in a message), and actions to send a test, rotate the secret and unflag.
What was told (notices) and each delivery are records: shown, filtered, never edited."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.notifications.forms import ChannelForm
from apps.notifications.models import Delivery, Notice, NotificationChannel
from apps.notifications.outcomes import delivery_outcome
from apps.notifications.services import channel_delete, channel_rotate_secret, channel_test, channel_unflag
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, admin_actor

SHOWN = ("target_hint", "flagged_at", "consecutive_failures", "last_error", "last_delivery_at")


def _delete(*, obj: NotificationChannel, actor: Actor) -> None:
    channel_delete(channel=obj, actor=actor)


@admin.register(NotificationChannel, site=tenant_admin_site)
class NotificationChannelAdmin(ServiceAdmin):
    form = ChannelForm
    delete_service = _delete
    list_display = ("name", "kind", "enabled", "target_hint", "state", "last_delivery_at")
    list_filter = ("kind", "enabled", ("flagged_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    readonly_fields = SHOWN
    actions = ["send_test", "rotate_secret", "unflag"]

    @admin.display(description="state")
    def state(self, obj: NotificationChannel):
        if obj.flagged_at:
            return format_html(
                "<strong>flagged</strong> after {} failures: {}", obj.consecutive_failures, obj.last_error
            )
        if obj.consecutive_failures:
            return f"{obj.consecutive_failures} failure(s) in a row: {obj.last_error}"
        return "working" if obj.last_delivery_at else "nothing sent yet"

    def _secrets_page(self, request, shown: list[tuple[NotificationChannel, str]]):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "shown": shown}
        context["title"] = "Webhook secret"
        # Not a redirect: the secret is on this one answer (never_cache, like every admin view), nowhere else.
        return TemplateResponse(request, "admin/notifications/notificationchannel/secret.html", context)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(obj, "new_secret", None)
        if secret:
            return self._secrets_page(request, [(obj, secret)])
        return super().response_add(request, obj, post_url_continue)

    def _each(self, request, queryset, act):
        """``act(channel, actor)`` for each selected channel; a refusal is said and the others go on."""
        actor = admin_actor(request)
        done = []
        for channel in queryset:
            try:
                done.append((channel, act(channel, actor)))
            except ValidationError as exc:
                self.message_user(request, f"{channel}: {'; '.join(exc.messages)}", messages.ERROR)
        return done

    # It reaches the channel's destination and records the delivery: a change, as in the API (admins).
    @admin.action(description="Send a test notice", permissions=["change"])
    def send_test(self, request, queryset):
        for channel, delivery in self._each(request, queryset, lambda c, a: channel_test(channel=c, actor=a)):
            level, text = delivery_outcome(channel, delivery)
            self.message_user(request, text, level)

    @admin.action(description="Rotate the webhook secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        shown = self._each(request, queryset, lambda c, a: channel_rotate_secret(channel=c, actor=a))
        return self._secrets_page(request, shown) if shown else None

    @admin.action(description="Unflag (tell it things again)", permissions=["change"])
    def unflag(self, request, queryset):
        done = self._each(request, queryset, lambda c, a: channel_unflag(channel=c, actor=a))
        if done:
            self.message_user(request, f"Unflagged {', '.join(str(c) for c, _ in done)}.", messages.SUCCESS)


@admin.register(Delivery, site=tenant_admin_site)
class DeliveryAdmin(RecordAdmin):
    list_display = ("created_at", "kind", "identifier", "channel", "status", "attempts", "response_code", "error")
    list_filter = ("status", "notice__kind", "channel")
    list_select_related = ("notice", "channel")
    search_fields = ("notice__identifier", "channel__name", "delivery_id")
    exclude = ("lease_until",)

    @admin.display(description="event", ordering="notice__kind")
    def kind(self, obj: Delivery) -> str:
        return obj.notice.kind

    @admin.display(description="about", ordering="notice__identifier")
    def identifier(self, obj: Delivery) -> str:
        return obj.notice.identifier

    def has_change_permission(self, request, obj=None):
        return False  # a record of what the sender did: shown, never saved by hand


@admin.register(Notice, site=tenant_admin_site)
class NoticeAdmin(RecordAdmin):
    list_display = ("created_at", "kind", "identifier", "certificate_kind")
    list_filter = ("kind", "certificate_kind")
    search_fields = ("identifier", "key")

    def has_change_permission(self, request, obj=None):
        return False
