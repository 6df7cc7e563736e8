"""The tenant's own Django admin, served on the tenant's host. The platform admin is admin.site."""

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from apps.accounts.selectors import sso_settings_active

# The help text of a write-only secret's field in admin forms.
KEEP = "Leave empty to keep the stored value; it is never shown."


class TenantAdminLoginForm(AdminAuthenticationForm):
    """The admin's password form, refused with a clear message when the tenant signs in by SSO only
    (the password backend refuses those users too, whatever form asks it)."""

    def clean(self):
        config = sso_settings_active()
        if config is not None and config.sso_only:
            raise ValidationError(
                f"Password sign-in is off for this tenant: use “Sign in with {config.name}”.", code="sso_only"
            )
        return super().clean()


class TenantAdminSite(AdminSite):
    site_title = "certmate"
    index_title = "Certificates, accounts and users"
    login_form = TenantAdminLoginForm
    site_url = "/"  # "View site": the tenant's portal, on the same host

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        context["site_header"] = f"certmate · {tenant.name}" if tenant is not None else "certmate"
        return context

    def login(self, request, extra_context=None):
        # templates/admin/login.html shows "Sign in with <name>" when the tenant has a provider.
        return super().login(request, extra_context={**(extra_context or {}), "sso": sso_settings_active()})


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
