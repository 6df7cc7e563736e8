from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from apps.accounts import (  # noqa: F401  (their pages)
    admin_audit,
    admin_signin,
    admin_sso,
    admin_tenants,
    admin_tokens,
    admin_users,
)
from apps.accounts.models import Domain
from apps.accounts.sites import tenant_admin_site


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
