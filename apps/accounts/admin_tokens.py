"""API tokens in the tenant's admin: listed and revoked here, created with the API or `manage.py token`
(their text is shown once, which an admin form cannot do safely). The hash is never shown."""

from django.contrib import admin, messages

from apps.accounts.models import ApiToken
from apps.accounts.services.tokens import token_revoke
from apps.accounts.sites import tenant_admin_site


@admin.register(ApiToken, site=tenant_admin_site)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix", "name", "user", "role", "created_by", "created_at", "expires_at", "last_used_at", "revoked_at",
    )  # fmt: skip
    list_filter = ("role",)
    search_fields = ("prefix", "name", "user__email")
    list_select_related = ("user", "created_by")
    fields = ("prefix", "name", "user", "role", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(token=token)
        self.message_user(request, f"revoked {queryset.count()} token(s)", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable, not editable; the revoke action is what changes a token.
        return False
