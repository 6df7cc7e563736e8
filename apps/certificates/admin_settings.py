"""The tenant's admin for its settings (one row), saved through the service the API uses."""

from django.contrib import admin

from apps.accounts.sites import tenant_admin_site
from apps.certificates.models import TenantSettings
from apps.certificates.services.settings import AUDITED, tenant_settings_update
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm


class TenantSettingsForm(ServiceForm):
    class Meta:
        model = TenantSettings
        fields = list(AUDITED)

    def apply(self, actor: Actor) -> TenantSettings:
        return tenant_settings_update(actor=actor, **{name: self.cleaned_data[name] for name in AUDITED})


@admin.register(TenantSettings, site=tenant_admin_site)
class TenantSettingsAdmin(ServiceAdmin):
    form = TenantSettingsForm
    list_display = ("__str__", "contact_email", "default_ca_account", "default_dns_account", "default_key_type")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not TenantSettings.objects.exists()
