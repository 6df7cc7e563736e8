"""The tenant's storage targets (credentials write-only) with a connection test, and what was
published where. A target is set through the same service as the API's: checked, tested and recorded
alike, a refusal shown on the form."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import ValidationError

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.storage.backends.base import StorageError
from apps.storage.models import Publication, StorageConfig
from apps.storage.services import storage_config_set, storage_config_test, storage_target_name
from certmate.admin_services import BoundedJSONField, ServiceAdmin, ServiceForm, admin_actor, json_from_form


class StorageConfigForm(ServiceForm):
    # The service tests the target before it switches to it: no transaction open while the host answers.
    atomic = False

    settings = BoundedJSONField(required=False, help_text='the backend\'s settings as JSON, e.g. {"url": …}')
    credentials_json = forms.CharField(
        label="credentials",
        required=False,
        widget=forms.PasswordInput,
        help_text="JSON; leave empty to keep the stored credentials, which are never shown",
    )

    class Meta:
        model = StorageConfig
        fields = ["backend", "settings"]

    def clean_settings(self) -> dict:
        settings = self.cleaned_data.get("settings")
        if settings in (None, ""):
            return {}
        if not isinstance(settings, dict):
            raise ValidationError("settings must be a JSON object")
        return settings

    def clean_credentials_json(self) -> dict | None:
        """None when left empty: the service keeps the stored credentials where it may."""
        raw = self.cleaned_data.get("credentials_json")
        if not raw:
            return None
        credentials = json_from_form(raw)
        if not isinstance(credentials, dict):
            raise ValidationError("credentials must be a JSON object")
        return credentials

    def apply(self, actor):
        data = self.cleaned_data
        try:
            return storage_config_set(
                actor=actor,
                backend=data["backend"],
                settings=data["settings"],
                credentials=data["credentials_json"],
                # Saving an earlier target again keeps its own credentials (where they may follow).
                keep_from_id=self.instance.pk,
            )
        except StorageError as exc:
            raise ValidationError(f"connection test failed: {exc.reason}") from None
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "credentials" in exc.error_dict:
                errors = dict(exc.error_dict)
                errors["credentials_json"] = errors.pop("credentials")
                raise ValidationError(errors) from None
            raise


@admin.register(StorageConfig, site=tenant_admin_site)
class StorageConfigAdmin(ServiceAdmin):
    form = StorageConfigForm
    list_display = ("backend", "is_active", "target", "last_test_at", "last_test_error", "created_at")
    readonly_fields = ("is_active", "last_test_at", "last_test_error")
    actions = ["test_connection"]

    @admin.display(description="where")
    def target(self, obj):
        return storage_target_name(obj)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Not in one transaction, unlike the admin's default: the service tests the connection to a host
        # the tenant chose, and no transaction may stay open while it answers. Saving is one service
        # call, atomic on its own.
        return self._changeform_view(request, object_id, form_url, extra_context)

    # It reaches the tenant's host and records the outcome: a change, as the API's admin-only test is.
    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request, queryset):
        for config in queryset:
            try:
                storage_config_test(config=config, actor=admin_actor(request))
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

    def has_change_permission(self, request, obj=None):
        return False  # a record of what the publisher did: shown, never saved by hand
