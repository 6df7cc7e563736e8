"""The audit log in the tenant's admin: read-only (listed, filtered, searched and opened; never added,
changed or deleted, no bulk actions). Admins and operators see it (operators read it over the API too);
viewers do not."""

from datetime import UTC

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from certmate.audit.models import AuditEvent
from certmate.audit.services import SECRET_CHANGED


@admin.register(AuditEvent, site=tenant_admin_site)
class AuditEventAdmin(RecordAdmin):
    list_display = ("time", "actor_name", "channel", "action", "object", "ip_address")
    list_filter = ("action", "channel", "object_type")
    search_fields = ("actor_name", "object_name")
    # The whole log is one index scan away; counting every row twice per page is not.
    show_full_result_count = False
    list_per_page = 50
    actions = None
    fieldsets = (
        (None, {"fields": ("time", "action", "object", "changes_table")}),
        ("Who", {"fields": ("actor_type", "actor_id", "actor_name", "channel")}),
        ("Request", {"fields": ("ip_address", "user_agent", "token_prefix")}),
        ("Chain", {"fields": ("id", "tenant", "prev_hash", "hash")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "time", "object", "changes_table"]

    def has_change_permission(self, request, obj=None):
        # The detail page is a view page: nothing on it can be saved.
        return False

    @admin.display(description="time (UTC)", ordering="created_at")
    def time(self, event: AuditEvent) -> str:
        # To the second, in UTC: the order of events matters more here than anywhere else in the admin.
        return f"{event.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"

    @admin.display(description="object", ordering="object_name")
    def object(self, event: AuditEvent) -> str:
        name = event.object_name or event.object_id or "—"
        return f"{event.object_type}: {name}" if event.object_type else name

    @admin.display(description="changes")
    def changes_table(self, event: AuditEvent) -> str:
        if not event.changes:
            return "—"
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", (_change_row(f, v) for f, v in event.changes.items())
        )
        return format_html("<table><tr><th>field</th><th>before</th><th>after</th></tr>{}</table>", rows)


def _change_row(field: str, change) -> tuple[str, str, str]:
    if isinstance(change, list) and len(change) == 2:
        return field, _shown(change[0]), _shown(change[1])
    if change == SECRET_CHANGED:
        return field, "(secret)", "(secret, changed)"
    return field, "", _shown(change)


def _shown(value) -> str:
    return "—" if value is None else str(value)
