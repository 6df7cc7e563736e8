"""The tenant's admin for its settings (one row)."""

from django.contrib import admin

from apps.accounts.sites import tenant_admin_site
from apps.certificates.models import TenantSettings
from apps.certificates.services.due import certificates_schedule_refresh


@admin.register(TenantSettings, site=tenant_admin_site)
class TenantSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "contact_email", "default_ca_account", "default_dns_account", "default_key_type")

    def has_add_permission(self, request):
        return not TenantSettings.objects.exists()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "renewal_threshold_days" in form.changed_data:
            certificates_schedule_refresh()

    def has_delete_permission(self, request, obj=None):
        return False
