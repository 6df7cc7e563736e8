"""The Django admin writing through the services, like every other face.

``ServiceForm`` saves by calling a service while the form is validated (inside the admin view's
transaction): a refusal of the service comes back as form errors, never a 500 and never a silent
change. ``ServiceAdmin`` hands the form its actor, deletes through a service, and replaces the bulk
"delete selected" action by one that goes through that service object by object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseRedirect

from certmate.actors import Actor, Channel, request_actor
from certmate.api.parsers import json_problem


def admin_actor(request) -> Actor:
    return request_actor(request, Channel.ADMIN)


def form_errors_from(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the fields it names that the form shows, on the
    form itself otherwise. The errors keep their codes (``job_open`` in the admin as in the API)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


def json_from_form(raw: str) -> Any:
    """A form field's JSON, bounded as the API's bodies are (depth, numbers, text): a ValidationError,
    never a 500, for anything else."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("not valid JSON", code="invalid") from None
    problem = json_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid")
    return value


class BoundedJSONField(forms.JSONField):
    """Django's form JSONField, parsing with ``json_from_form``."""

    def to_python(self, value):
        if self.disabled or value in self.empty_values or isinstance(value, list | dict | int | float):
            return super().to_python(value)
        return json_from_form(value)

    def bound_data(self, data, initial):
        # What the form shows again with its errors: parsed the same bounded way.
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return json_from_form(data)
        except ValidationError:
            return InvalidJSONInput(data)


class ServiceForm(forms.ModelForm):
    """A model form saved by a service. Subclasses implement ``apply(actor)``: call the service with
    ``self.cleaned_data`` (``self.instance.pk`` tells a change from an add) and return the saved object."""

    actor: Actor | None = None  # set by ServiceAdmin.get_form
    # False for a service that reaches a host the tenant chose before it writes, atomic on its own: no
    # transaction may stay open while that host answers (its admin's changeform_view is not atomic either).
    atomic: bool = True

    def apply(self, actor: Actor) -> models.Model:
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        if self.actor is None:
            raise RuntimeError(f"{type(self).__name__} is used without an actor")
        try:
            with transaction.atomic() if self.atomic else nullcontext():
                self.instance = self.apply(self.actor)
        except ValidationError as exc:
            form_errors_from(self, exc)

    def save(self, commit: bool = True) -> models.Model:
        # Saved already, by apply(); the admin's save_related() still calls save_m2m().
        self.save_m2m = lambda: None
        return self.instance


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes are service calls. ``delete_service(obj=..., actor=...)`` deletes one
    object (a ValidationError refuses, shown as a message); leave it None to forbid deleting."""

    delete_service: Callable[..., Any] | None = None

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, ServiceForm):
            form = type(form.__name__, (form,), {"actor": admin_actor(request)})
        return form

    def save_model(self, request, obj, form, change):
        if not isinstance(form, ServiceForm):
            raise TypeError(f"{type(self).__name__} saves only through a ServiceForm")

    def has_delete_permission(self, request, obj=None):
        return self.delete_service is not None and super().has_delete_permission(request, obj)

    def _delete(self, request, obj) -> bool:
        try:
            with transaction.atomic():
                type(self).delete_service(obj=obj, actor=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, f"{obj}: {'; '.join(exc.messages)}", messages.ERROR)
            return False
        return True

    def delete_model(self, request, obj):
        request._service_delete_refused = not self._delete(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_service_delete_refused", False):
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/change/")
        return super().response_delete(request, obj_display, obj_id)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._delete(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (
                ServiceAdmin.delete_through_service,
                "delete_selected",
                actions["delete_selected"][2],
            )
        return actions

    @admin.action(permissions=["delete"])
    def delete_through_service(self, request, queryset):
        deleted = sum(self._delete(request, obj) for obj in queryset)
        if deleted:
            self.message_user(request, f"Deleted {deleted} {self.opts.verbose_name_plural}.", messages.SUCCESS)
