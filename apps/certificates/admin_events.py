"""Certificate events and their delivery to each consumer, in the tenant's admin: shown, never edited.
An event whose consumer keeps failing shows here with the consumer's last error and next attempt."""

from django.contrib import admin

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates.models import CertificateEvent, EventDelivery


class DeliveryInline(admin.TabularInline):
    model = EventDelivery
    fields = ("consumer", "delivered_at", "attempts", "next_attempt_at", "last_error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CertificateEvent, site=tenant_admin_site)
class CertificateEventAdmin(RecordAdmin):
    list_display = ("created_at", "kind", "identifier", "version_number", "processed_at")
    list_filter = ("kind",)
    search_fields = ("identifier",)
    inlines = [DeliveryInline]

    def has_change_permission(self, request, obj=None):
        return False
