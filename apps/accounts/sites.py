"""The tenant's own Django admin, served on the tenant's host. The platform admin is admin.site."""

from django.contrib.admin import AdminSite, ModelAdmin


class TenantAdminSite(AdminSite):
    site_title = "certmate"
    index_title = "Certificates, accounts and users"

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        context["site_header"] = f"certmate · {tenant.name}" if tenant is not None else "certmate"
        return context


tenant_admin_site = TenantAdminSite(name="tenant_admin")


class RecordAdmin(ModelAdmin):
    """Rows certmate writes itself (jobs, sweeps, publications, download records): shown, never added
    or edited by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A record is history: it goes with what it records (a certificate deleted through its service).
        return False
