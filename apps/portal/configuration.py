"""The tenant's storage target (admins: view, change, test the connection) and its settings (everyone
reads, admins change), through the admin's forms and so through the services the API calls:
storage_config_set / storage_config_test and tenant_settings_update. Storage credentials are write-only."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.functional import cached_property

from apps.accounts.models import Role
from apps.certificates.admin_settings import TenantSettingsForm
from apps.certificates.models import TenantSettings
from apps.portal.editing import ActionPage, ServiceFormPage
from apps.storage.admin import StorageConfigForm
from apps.storage.backends.base import StorageError
from apps.storage.selectors import publication_counts
from apps.storage.services import storage_config_active, storage_config_test, storage_target_name


class StorageView(ServiceFormPage):
    title = "Storage"
    nav = "storage"
    template_name = "portal/admin/storage.html"
    form_class = StorageConfigForm
    back_url_name = "portal:storage"
    submit_label = "Test and save"
    done_message = "Saved: certificates are published to {object.target} now."

    @cached_property
    def active(self):
        return storage_config_active()

    def get_instance(self):
        return self.active

    def form_valid(self, form):
        form.instance.target = storage_target_name(form.instance)
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        active = self.active
        return super().get_context_data(
            config=active,
            target=storage_target_name(active),
            credential_names=sorted(active.credentials or {}),
            publications=publication_counts(target=active),
            **kwargs,
        )


class StorageTestView(ActionPage):
    back_url_name = "portal:storage"
    atomic = False  # the target's host answers meanwhile: the service records the outcome on its own

    def act(self) -> str:
        config = storage_config_active()
        try:
            storage_config_test(config=config, actor=self.actor)
        except StorageError as exc:
            raise ValidationError(f"The connection test failed: {exc.reason}") from None
        return f"The connection works: {storage_target_name(config)}."


class SettingsView(ServiceFormPage):
    title = "Settings"
    nav = "settings"
    template_name = "portal/admin/settings.html"
    read_role = Role.VIEWER  # everyone reads the defaults; admins change them
    form_class = TenantSettingsForm
    back_url_name = "portal:settings"
    done_message = "Saved the settings."

    def get_instance(self):
        return TenantSettings.load()

    def get_context_data(self, **kwargs):
        return super().get_context_data(settings=self.instance, **kwargs)
