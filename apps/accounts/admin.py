from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.accounts import (  # noqa: F401  (their pages)
    admin_audit,
    admin_signin,
    admin_sso,
    admin_tokens,
    admin_users,
)
from apps.accounts.models import Domain, Tenant
from apps.accounts.sites import tenant_admin_site


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 1


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("schema_name", "name", "is_active", "primary_domain", "created_at")
    list_filter = ("is_active",)
    search_fields = ("schema_name", "name", "domains__domain")
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # A tenant's slug is its schema's name: fixed once the schema exists.
        return ("schema_name", "created_at") if obj else ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    @admin.display(description="primary domain")
    def primary_domain(self, obj):
        return next((d.domain for d in obj.domains.all() if d.is_primary), "—")

    def has_delete_permission(self, request, obj=None):
        # Dropping a schema is irreversible: `manage.py tenant delete SLUG --yes` does it on purpose.
        return False


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain", "tenant__schema_name")
    list_select_related = ("tenant",)


class RoleGroupAdmin(GroupAdmin):
    """The groups behind the three roles: shown, never edited by hand. ``roles_sync`` keeps their
    permissions; a user's role is changed through the user services (API or the user's page)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


tenant_admin_site.register(Group, RoleGroupAdmin)
