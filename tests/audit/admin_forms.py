"""Driving the tenant admin's change forms as a browser would: what the page holds, posted back."""

from __future__ import annotations

from django.test import Client


def _field_values(form) -> dict:
    """A bound form's fields as a browser posts them: a checkbox left out when unticked, None as ""."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is False:
            continue
        if value is True:
            value = "on"
        data[bound.html_name] = "" if value is None else value
    return data


def admin_change_data(page) -> dict:
    """The POST a browser sends from an admin change page as it was served: the main form's values and
    every inline formset's management form and rows."""
    data = _field_values(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_field_values(formset.management_form))
        for form in formset.forms:
            data.update(_field_values(form))
    return data


def admin_change(client: Client, path: str, host: dict, **changes):
    """Open the change page at ``path``, change the named fields, save; the response is not followed."""
    page = client.get(path, headers=host)
    assert page.status_code == 200, page.status_code
    data = admin_change_data(page)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return client.post(path, data, headers=host)
