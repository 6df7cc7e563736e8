"""Notifications: the tenant's channels (everyone reads, as through the API; admins add, change, test,
rotate a webhook's secret, unflag and delete) and the delivery log (everyone, filtered, a page at a time).
Through the admin's channel form and so through the services the API calls. A channel's URL is
write-only; a webhook's secret is shown once, on the page that answers (never stored, never in a message)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.generic import View

from apps.accounts.models import Role
from apps.notifications.forms import ChannelForm
from apps.notifications.kinds import DeliveryStatus, NoticeKind
from apps.notifications.outcomes import delivery_outcome
from apps.notifications.selectors import channel_get, channels_list, deliveries_list
from apps.notifications.services import channel_delete, channel_rotate_secret, channel_test, channel_unflag
from apps.portal.base import PortalMixin, PortalView, is_htmx
from apps.portal.editing import ActionPage, BackTo, DeletePage, ServiceFormPage

BACK = "portal:notifications"
PAGE_SIZE = 50


class ChannelsView(PortalView):
    title = "Notifications"
    nav = "notifications"
    template_name = "portal/notifications/channels.html"
    write_role = Role.ADMIN  # everyone reads; the write controls are for admins

    def get_context_data(self, **kwargs):
        return super().get_context_data(channels=list(channels_list()), **kwargs)


def _secret_page(view, channel, secret: str, **context):
    """The one answer that shows a webhook's secret: not a redirect, never cached."""
    context = view.get_context_data(channel=channel, secret=secret, **context)
    response = TemplateResponse(view.request, "portal/notifications/secret.html", context)
    add_never_cache_headers(response)
    return response


class ChannelPage(ServiceFormPage):
    nav = "notifications"
    template_name = "portal/notifications/channel.html"
    form_class = ChannelForm
    back_url_name = BACK
    delete_url_name = "portal:notification-delete"
    code_fields = {"name_taken": "name"}
    done_message = "Saved the channel {object}."

    def get_instance(self):
        return channel_get(pk=self.kwargs["pk"]) if "pk" in self.kwargs else None

    @property
    def title(self):
        return f"Channel {self.instance.name}" if self.instance else "Add a notification channel"

    def form_valid(self, form):
        secret = getattr(form.instance, "new_secret", None)
        if secret:
            return _secret_page(self, form.instance, secret, form=form)
        return super().form_valid(form)


class ChannelTestView(BackTo, PortalMixin, View):
    """The "Send test" button: the outcome in place (htmx) or as the page's message."""

    http_method_names = ["post"]
    write_role = Role.ADMIN
    back_url_name = BACK

    def post(self, request, pk):
        channel = channel_get(pk=pk)
        # Not in a transaction: the destination answers meanwhile, and the service records the delivery.
        try:
            level, text = delivery_outcome(channel, channel_test(channel=channel, actor=self.actor))
        except ValidationError as exc:
            level, text = messages.ERROR, f"{channel}: {'; '.join(exc.messages)}"
        if is_htmx(request):
            ok = level == messages.SUCCESS
            return TemplateResponse(request, "portal/notifications/_test_result.html", {"ok": ok, "text": text})
        messages.add_message(request, level, text)
        return HttpResponseRedirect(self.back_url())


class ChannelRotateView(BackTo, PortalView):
    """POST: a webhook's new secret, shown on this one answer."""

    http_method_names = ["post"]
    title = "New webhook secret"
    nav = "notifications"
    write_role = Role.ADMIN
    back_url_name = BACK

    def post(self, request, pk):
        channel = channel_get(pk=pk)
        try:
            secret = channel_rotate_secret(channel=channel, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, f"{channel}: {'; '.join(exc.messages)}")
            return HttpResponseRedirect(self.back_url())
        return _secret_page(self, channel, secret)


class ChannelUnflagView(ActionPage):
    back_url_name = BACK

    def act(self) -> str:
        channel = channel_unflag(channel=channel_get(pk=self.kwargs["pk"]), actor=self.actor)
        return f"{channel} is unflagged: it is told things again."


class ChannelDeleteView(DeletePage):
    title = "Delete a notification channel"
    nav = "notifications"
    what = "channel"
    back_url_name = BACK
    consequence = "Its delivery log goes with it; nothing more is sent there."

    def get_object(self):
        return channel_get(pk=self.kwargs["pk"])

    def delete(self, obj):
        channel_delete(channel=obj, actor=self.actor)


class DeliveryFilterForm(forms.Form):
    channel = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(choices=[("", "any"), *DeliveryStatus.choices], required=False)
    kind = forms.ChoiceField(label="event", choices=[("", "any"), *NoticeKind.choices], required=False)

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = {channel.pk: channel for channel in channels}
        self.fields["channel"].choices = [("", "any"), *((pk, c.name) for pk, c in self.channels.items())]

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "channel": self.channels.get(data.get("channel")) if data.get("channel") else None,
            "status": data.get("status") or None,
            "kind": data.get("kind") or None,
        }


class DeliveriesView(PortalView):
    title = "Delivery log"
    nav = "notifications"
    template_name = "portal/notifications/deliveries.html"

    def get_context_data(self, **kwargs):
        form = DeliveryFilterForm(self.request.GET or None, channels=channels_list())
        valid = not form.is_bound or form.is_valid()
        rows = deliveries_list(**(form.filters() if form.is_bound and valid else {}))
        page = Paginator(rows if valid else rows.none(), PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), **kwargs)
