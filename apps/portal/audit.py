"""The audit log (operators and admins, as /api/audit): newest first, a page at a time, filtered by
actor, action, object type, channel and dates. Filters are checked by a form (the API's patterns), then
applied by certmate.audit.selectors.audit_event_list."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.core.paginator import Paginator
from django.utils import timezone

from apps.accounts.api.audit import ACTION, MAX_USER_ID, OBJECT_TYPE
from apps.accounts.models import Role
from apps.portal.base import PortalView
from certmate.actors import Channel
from certmate.api.fields import ASCII_INTEGER
from certmate.audit.selectors import audit_event_list

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        max_length=254, required=False, help_text="an e-mail address, a user's id, or what the system did"
    )
    action = forms.RegexField(
        ACTION, max_length=80, required=False,
        help_text="certificate.renewed, or certificate. for every certificate action",
        error_messages={"invalid": "give an action such as certificate.renewed, or a prefix such as certificate."},
    )  # fmt: skip
    object_type = forms.RegexField(
        OBJECT_TYPE, max_length=60, required=False, help_text="certificate, ca_account, user, api_token, ...",
        error_messages={"invalid": "give a type in lowercase letters, digits and _ (e.g. ca_account)"},
    )  # fmt: skip
    channel = forms.ChoiceField(choices=[("", "any"), *Channel.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="from this day")
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="to this day")

    def clean_actor(self) -> int | str:
        value = self.cleaned_data["actor"].strip()
        if ASCII_INTEGER.fullmatch(value):
            number = int(value)
            if not 1 <= number <= MAX_USER_ID:
                raise forms.ValidationError("a user's id is a whole number from 1")
            return number
        return value

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "must not be before since")
        return cleaned

    def filters(self) -> dict:
        """What audit_event_list takes: days as the tenant's local midnights, ``until`` inclusive."""
        data = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        zone = timezone.get_current_timezone()
        if "since" in data:
            data["since"] = datetime.combine(data["since"], time.min, tzinfo=zone)
        if "until" in data:
            data["until"] = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
        return data


def change_lines(changes) -> list[tuple[str, str]]:
    """An event's changes for reading: "before → after", or what the log says of a secret ("changed")."""
    if not isinstance(changes, dict):
        return []
    lines = []
    for field, change in changes.items():
        if isinstance(change, list) and len(change) == 2:
            before, after = ("—" if value is None else str(value) for value in change)
            lines.append((field, f"{before} → {after}"))
        else:
            lines.append((field, str(change)))
    return lines


class AuditView(PortalView):
    title = "Audit log"
    nav = "audit"
    template_name = "portal/admin/audit.html"
    read_role = Role.OPERATOR

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None)
        filters = form.filters() if form.is_bound and form.is_valid() else {}
        events = audit_event_list(**filters) if not form.is_bound or form.is_valid() else audit_event_list().none()
        page = Paginator(events, PAGE_SIZE).get_page(self.request.GET.get("page"))
        page.object_list = list(page.object_list)  # read once: the rows below carry their lines
        for event in page.object_list:
            event.change_lines = change_lines(event.changes)
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), **kwargs)
