"""The platform admin's tenants (public host): "add tenant" runs tenant_create (schema, primary domain
and, when given, the tenant's first admin: one transaction, the service's refusals at the form), and
the list shows each tenant's certificates and health.

The figures come from whoever registers ``tenant_summaries`` (apps.certificates does: accounts never
imports the certificates app), for the tenants of the page at once (one query, not one per tenant)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html

from apps.accounts.models import Domain, Tenant
from apps.accounts.services.tenants import tenant_create
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm, admin_actor


@dataclasses.dataclass(frozen=True)
class TenantSummary:
    certificates: int
    health: str  # "ok", or what needs a look ("2 failed, 1 expires within 7 days")
    healthy: bool


# (schema names) -> {schema name: TenantSummary}; set by the app that knows the certificates.
tenant_summaries: Callable[[Sequence[str]], dict[str, TenantSummary]] | None = None


def platform_actor(request) -> Actor:
    """A platform operator, as a tenant's audit log records them: by name, channel admin. Their user row
    lives in the public schema, so it is no user of the tenant's (no id that would name one there)."""
    actor = admin_actor(request)
    return dataclasses.replace(actor, user=None, name=f"platform operator {actor.name}")


class TenantCreateForm(ServiceForm):
    slug = forms.SlugField(
        max_length=63, help_text="the schema's name: 1-63 lowercase letters, digits, underscores; fixed once created"
    )
    name = forms.CharField(max_length=100, required=False, help_text="shown in its admin; empty: the slug")
    domain = forms.CharField(max_length=253, help_text="the host that serves the tenant, e.g. acme.certmate.example")
    admin_email = forms.EmailField(
        label="first admin's e-mail", required=False, help_text="the tenant's first admin (recommended): signs in "
        "on the tenant's host and adds the others",
    )  # fmt: skip
    admin_password = forms.CharField(
        label="first admin's password", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    class Meta:
        model = Tenant
        fields = ["name"]

    def validate_unique(self):
        pass  # tenant_create decides, in its words (slug_taken, domain_taken)

    def apply(self, actor: Actor) -> Tenant:
        data = self.cleaned_data
        return tenant_create(
            slug=data["slug"],
            domain=data["domain"],
            name=data["name"],
            admin_email=data["admin_email"] or None,
            admin_password=data["admin_password"] or None,
            actor=actor,
        )


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 1


class TenantChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        summaries = tenant_summaries([t.schema_name for t in self.result_list]) if tenant_summaries else {}
        for tenant in self.result_list:
            tenant.summary = summaries.get(tenant.schema_name)


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
    add_form = TenantCreateForm
    list_display = ("schema_name", "name", "is_active", "primary_domain", "certificates", "health", "created_at")
    list_filter = ("is_active",)
    search_fields = ("schema_name", "name", "domains__domain")
    inlines = [DomainInline]

    class Media:
        css = {"all": ("certificates/admin.css",)}

    def get_changelist(self, request, **kwargs):
        return TenantChangeList

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs.update(form=self.add_form, fields=None)
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            form = type(form.__name__, (form,), {"actor": platform_actor(request)})
        return form

    def get_fields(self, request, obj=None):
        return (
            ["slug", "name", "domain", "admin_email", "admin_password"]
            if obj is None
            else ["schema_name", "name", "is_active", "created_at"]
        )

    def get_readonly_fields(self, request, obj=None):
        # A tenant's slug is its schema's name: fixed once the schema exists.
        return ("schema_name", "created_at") if obj else ()

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:  # its name and whether it is active: plain fields of the public schema's row
            obj.save()

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    @admin.display(description="primary domain")
    def primary_domain(self, obj):
        return next((d.domain for d in obj.domains.all() if d.is_primary), "—")

    @admin.display(description="certificates")
    def certificates(self, obj):
        summary = getattr(obj, "summary", None)
        return summary.certificates if summary else "—"

    @admin.display(description="health")
    def health(self, obj):
        summary = getattr(obj, "summary", None)
        if summary is None:
            return "—"
        return format_html('<span class="days-left band-{}">{}</span>', "ok" if summary.healthy else "urgent",
                           summary.health)  # fmt: skip

    def has_delete_permission(self, request, obj=None):
        # Dropping a schema is irreversible: `manage.py tenant delete SLUG --yes` does it on purpose.
        return False
