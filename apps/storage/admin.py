"""The tenant's storage targets (credentials write-only) with a connection test, and what was
published where."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import ValidationError

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.storage.backends.base import StorageError
from apps.storage.models import Publication, StorageConfig
from apps.storage.services import (
    storage_config_set,
    storage_config_test,
    storage_config_validate,
    storage_credentials_kept,
)


class StorageConfigForm(forms.ModelForm):
    settings = forms.JSONField(required=False, help_text='the backend\'s settings as JSON, e.g. {"url": …}')
    credentials_json = forms.CharField(
        label="credentials",
        required=False,
        widget=forms.PasswordInput,
        help_text="JSON; leave empty to keep the stored credentials, which are never shown",
    )

    class Meta:
        model = StorageConfig
        fields = ["backend", "settings"]

    def clean(self):
        data = super().clean()
        raw = data.get("credentials_json")
        settings = data.get("settings") or {}
        if "backend" not in data:
            return data  # the form already says the backend is not a choice
        try:
            credentials = json.loads(raw) if raw else self._stored_credentials(data["backend"], settings)
        except json.JSONDecodeError:
            raise ValidationError({"credentials_json": "credentials must be a JSON object"}) from None
        if not isinstance(credentials, dict):
            raise ValidationError({"credentials_json": "credentials must be a JSON object"})
        data["credentials"] = credentials
        try:
            storage_config_validate(backend=data["backend"], settings=settings, credentials=credentials)
        except ValidationError as exc:
            # Named after settings and credentials, which are not form fields: said above the form.
            raise ValidationError(exc.messages) from None
        # Reach the target before it becomes the active one; the form says what failed.
        try:
            candidate = StorageConfig(backend=data["backend"], settings=settings, credentials=credentials)
            storage_config_test(config=candidate)
        except StorageError as exc:
            raise ValidationError(f"connection test failed: {exc.reason}") from None
        return data

    def _stored_credentials(self, backend: str, settings: dict) -> dict:
        """Left empty: the stored credentials, unless the new settings would send them elsewhere."""
        try:
            return storage_credentials_kept(
                previous=self.instance if self.instance.pk else None, backend=backend, settings=settings
            )
        except ValidationError as exc:
            raise ValidationError({"credentials_json": exc.message_dict["credentials"]}) from None


@admin.register(StorageConfig, site=tenant_admin_site)
class StorageConfigAdmin(admin.ModelAdmin):
    form = StorageConfigForm
    list_display = ("backend", "is_active", "target", "last_test_at", "last_test_error", "created_at")
    readonly_fields = ("is_active", "last_test_at", "last_test_error")
    actions = ["test_connection"]

    @admin.display(description="where")
    def target(self, obj):
        from apps.storage.services import storage_backend

        try:
            return storage_backend(obj).describe()
        except StorageError as exc:
            return exc.reason

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Not in one transaction, unlike the admin's default: the form tests the connection to a host
        # the tenant chose, and no transaction may stay open while it answers. Saving is one service
        # call, atomic on its own.
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # A saved configuration becomes the active target (tested by the form), through the service.
        data = form.cleaned_data
        saved = storage_config_set(
            backend=data["backend"], settings=data.get("settings") or {}, credentials=data["credentials"], test=False
        )
        obj.pk = saved.pk

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for config in queryset:
            try:
                storage_config_test(config=config)
            except StorageError as exc:
                self.message_user(request, f"{config}: {exc.reason}", messages.ERROR)
            else:
                self.message_user(request, f"{config}: connection works")


@admin.register(Publication, site=tenant_admin_site)
class PublicationAdmin(RecordAdmin):
    list_display = ("version", "target", "state", "attempts", "published_at", "next_attempt_at", "last_error")
    list_filter = ("state", "target__backend")
    list_select_related = ("version__certificate", "target")
    search_fields = ("version__certificate__identifier",)
