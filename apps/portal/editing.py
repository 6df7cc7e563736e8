"""Write pages shared by the portal's administration areas: a form saved by a service (the admin's
``ServiceForm``s, reused as they are), a POST-only action button, and a delete behind a confirmation.

Nothing here decides anything: the form's ``apply(actor)`` or the page's ``act()`` calls a service,
and a service's refusal (``ValidationError``) comes back at the field it names or as a message.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, View

from apps.accounts.models import Role
from apps.portal.base import PortalMixin, PortalView
from certmate.errors import NotFound


def found(queryset: models.QuerySet, pk: Any, what: str) -> models.Model:
    """The row ``pk`` of ``queryset`` (the current tenant's schema), or NotFound (the portal's 404)."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"no {what} {pk}")
    return row


def _refusals_at_fields(apply, code_fields: dict[str, str]):
    def apply_at_fields(form, actor):
        try:
            return apply(form, actor)
        except ValidationError as exc:
            field = None if hasattr(exc, "error_dict") else code_fields.get(exc.code)
            if field is None or field not in form.fields:
                raise
            raise ValidationError({field: exc}) from None

    return apply_at_fields


class BackTo:
    """Where a page goes when it is done: ``back_url_name`` (with ``back_args()``)."""

    back_url_name = ""

    def back_args(self) -> tuple:
        return ()

    def back_url(self) -> str:
        return reverse(self.back_url_name, args=self.back_args() or None)


class ServiceFormPage(BackTo, PortalMixin, FormView):
    """A form page whose form is a ``ServiceForm``: validating it calls the service with this page's
    actor (channel portal); a refusal shows at the field. ``get_instance()``: the row a change form edits."""

    template_name = "portal/form_page.html"
    write_role = Role.ADMIN
    read_role = Role.ADMIN  # a form to change things: shown to whoever may send it
    submit_label = "Save"
    done_message = "Saved: {object}."
    delete_url_name = ""  # a change page's "Delete…" link (to a DeletePage), with the row's pk

    def get_instance(self) -> models.Model | None:
        return None

    @cached_property
    def instance(self) -> models.Model | None:
        return self.get_instance()

    # A refusal the service raises without naming a field (``name_taken``), and the field it concerns:
    # shown there, next to what to change, rather than above the form.
    code_fields: dict[str, str] = {}

    def get_form_class(self):
        form_class = super().get_form_class()
        attrs: dict[str, Any] = {"actor": self.actor}
        if self.code_fields:
            attrs["apply"] = _refusals_at_fields(form_class.apply, self.code_fields)
        return type(form_class.__name__, (form_class,), attrs)

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        if self.instance is not None:
            kwargs["instance"] = self.instance
        return kwargs

    def get_context_data(self, **kwargs):
        delete_url = ""
        if self.instance is not None and self.delete_url_name:
            delete_url = reverse(self.delete_url_name, args=[*self.back_args(), self.instance.pk])
        return super().get_context_data(
            submit_label=self.submit_label, back_url=self.back_url(), delete_url=delete_url, **kwargs
        )

    def form_valid(self, form):
        messages.success(self.request, self.done_message.format(object=form.instance))
        return HttpResponseRedirect(self.done_url(form.instance))

    def done_url(self, saved: models.Model) -> str:
        return self.back_url()


class ActionPage(BackTo, PortalMixin, View):
    """A button's target (POST only): ``act()`` calls a service and returns what to tell the user; a
    refusal becomes an error message. Then back to ``back_url()``."""

    http_method_names = ["post"]
    write_role = Role.ADMIN
    atomic = True  # False for a service that reaches another host (no transaction open meanwhile)

    def act(self) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            with transaction.atomic() if self.atomic else nullcontext():
                done = self.act()
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(self.back_url())


class DeletePage(BackTo, PortalView):
    """GET: "delete this?" with the object's name; POST: ``delete(obj)`` through its service. A refusal
    (in use, the last admin) is said on the page it came from."""

    template_name = "portal/confirm_delete.html"
    read_role = write_role = Role.ADMIN
    what = ""  # "CA account"
    consequence = ""  # one sentence about what deleting means

    def get_object(self) -> models.Model:
        raise NotImplementedError

    def delete(self, obj: models.Model) -> None:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            object=self.get_object(), what=self.what, consequence=self.consequence, back_url=self.back_url(), **kwargs
        )

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        name = str(obj)
        try:
            with transaction.atomic():
                self.delete(obj)
        except ValidationError as exc:
            messages.error(request, f"{self.what} {name} was not deleted: {'; '.join(exc.messages)}")
        else:
            messages.success(request, f"Deleted {self.what} {name}.")
        return HttpResponseRedirect(self.back_url())
