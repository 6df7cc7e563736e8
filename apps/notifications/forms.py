"""The channel form the tenant admin and the portal share: saved by channel_create / channel_update, so
checked and recorded as the API's. The target (a URL with tokens in it) is write-only: never rendered
back; left empty on a change, the stored one stays."""

from __future__ import annotations

import re

from django import forms

from apps.accounts.sites import KEEP
from apps.certificates.models import CertificateKind
from apps.notifications.kinds import CHOOSABLE_KINDS, ChannelKind, NoticeKind
from apps.notifications.models import NotificationChannel
from apps.notifications.services import channel_create, channel_update
from apps.notifications.services.channels import MAX_FILTERS
from certmate.actors import Actor
from certmate.admin_services import ServiceForm

MAX_ITEMS = MAX_FILTERS  # recipients, issuers, patterns: the service's bound
FIELDS = ["name", "kind", "enabled", "recipients", "events", "certificate_kinds", "issuers", "name_patterns"]


class ListField(forms.CharField):
    """A list typed one item a line (or separated by commas): bounded in count and length."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, *, item_length: int, **kwargs):
        self.item_length = item_length
        super().__init__(required=False, max_length=MAX_ITEMS * (item_length + 2), **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value) -> list[str]:
        text = super().clean(value)
        items = [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]
        if len(items) > MAX_ITEMS:
            raise forms.ValidationError(f"at most {MAX_ITEMS} entries ({len(items)} given)", code="invalid")
        too_long = [item for item in items if len(item) > self.item_length]
        if too_long:
            raise forms.ValidationError(
                f"an entry is longer than {self.item_length} characters: {too_long[0][:40]}…", code="invalid"
            )
        return items


class ChannelForm(ServiceForm):
    target = forms.CharField(
        label="URL",
        required=False,
        max_length=2048,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Webhook: its https:// URL. Apprise: the service's URL (slack://…, ntfys://…, mailto://…). "
        "Not for e-mail channels. " + KEEP,
    )
    recipients = ListField(item_length=254, help_text="E-mail channels: the addresses, one a line.")
    events = forms.MultipleChoiceField(
        choices=[(kind, NoticeKind(kind).label) for kind in CHOOSABLE_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What it is told about. Private key downloads and the weekly digest (e-mail) are opt-in.",
    )
    certificate_kinds = forms.MultipleChoiceField(
        choices=CertificateKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: both server and client certificates.",
    )
    issuers = ListField(item_length=200, help_text="Only certificates from these CA accounts or private CAs (names).")
    name_patterns = ListField(
        item_length=253, help_text="Only identifiers matching one of these patterns, e.g. *.example.com."
    )

    class Meta:
        model = NotificationChannel
        fields = FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ChannelKind.choices
        if self.instance.pk:
            self.fields["kind"].disabled = True  # a channel keeps its kind: make another for another kind
        else:
            self.fields["target"].help_text = self.fields["target"].help_text.replace(KEEP, "").strip()
            self.initial.setdefault("events", NotificationChannel._meta.get_field("events").get_default())

    def validate_unique(self):
        pass  # the service decides (a taken name is its refusal, in its words)

    def apply(self, actor: Actor) -> NotificationChannel:
        values = {name: self.cleaned_data[name] for name in FIELDS}
        target = self.cleaned_data["target"]
        if not self.instance.pk:
            channel, secret = channel_create(actor=actor, target=target, **values)
            channel.new_secret = secret
            return channel
        values.pop("kind")
        return channel_update(actor=actor, channel=self.instance, target=target, **values)
