from django.contrib import admin
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from apps.accounts.models import Role
from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates import admin_events, admin_platform, admin_settings  # noqa: F401  (their pages, the tenants' figures)
from apps.certificates.acme import admin as acme_admin  # noqa: F401  (the ACME accounts' pages)
from apps.certificates.acme.webroot import CHALLENGE_HELP, WEBROOT_HELP
from apps.certificates.admin_actions import CertificateActions
from apps.certificates.admin_inlines import JobInline, VersionInline, ViewOnly, published_at
from apps.certificates.admin_reissue import can_reissue, reissue_selected
from apps.certificates.admin_request import CertificateRequestForm, FallbackChainField
from apps.certificates.models import Certificate, CertificateVersion, Job, RenewalSweep
from apps.certificates.pki import admin as pki_admin  # noqa: F401  (the private CAs' and profiles' pages)
from apps.certificates.pki.admin_issue import private_issue_view
from apps.certificates.pki.admin_revoke import can_revoke, revoke_current, revoke_versions, unhold_versions
from apps.certificates.services.acme_options import fallback_names
from apps.certificates.services.certificates import certificate_delete, certificate_update
from apps.certificates.services.downloads import PUBLIC_FILES
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm


def _is_admin(request) -> bool:
    return getattr(request.user, "role", None) == Role.ADMIN


class CertificateForm(ServiceForm):
    """How a certificate is issued and renewed, saved by certificate_update: a change it refuses (the
    key type or an account while a job is open) is a form error, as the API's 409 is."""

    fallback_ca_accounts = FallbackChainField()

    class Meta:
        model = Certificate
        fields = ("key_type", "ca_account", "dns_account", "challenge", "webroot", "auto_renew", "renew_before_days",
                  "acme_profile")  # fmt: skip
        help_texts = {"challenge": CHALLENGE_HELP, "webroot": WEBROOT_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "challenge" in self.fields:
            self.fields["challenge"].required = False  # left out of a post (a script's): kept
        if "fallback_ca_accounts" in self.fields:  # by name, in their order (not the related rows)
            self.initial["fallback_ca_accounts"] = fallback_names(self.instance)

    def apply(self, actor: Actor) -> Certificate:
        names = [*self._meta.fields, "fallback_ca_accounts"]
        values = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        if not values.get("challenge", True):
            del values["challenge"]
        return certificate_update(certificate=self.instance, actor=actor, **values)


class PrivateCertificateForm(CertificateForm):
    """A private CA's certificate: its CA, profile and names are fixed; how it renews is not."""

    fallback_ca_accounts = None  # ACME's

    class Meta:
        model = Certificate
        fields = ("auto_renew", "renew_before_days")


def _certificate_delete(*, obj: Certificate, actor: Actor) -> None:
    # Through the service: it refuses while a job is open and withdraws the published copies.
    certificate_delete(certificate=obj, actor=actor)


@admin.register(Certificate, site=tenant_admin_site)
class CertificateAdmin(CertificateActions, ServiceAdmin):
    form = CertificateForm
    add_form = CertificateRequestForm
    delete_service = staticmethod(_certificate_delete)
    list_display = (
        "identifier",
        "kind",
        "status",
        "days_left",
        "expires",
        "next_renewal",
        "auto_renew",
        "issuer",
        "dns_account",
    )
    list_filter = ("kind", "status", "auto_renew", "authority")
    search_fields = ("identifier", "san_domains")
    list_select_related = ("current_version", "ca_account", "dns_account", "authority")
    readonly_fields = (
        "kind", "identifier", "san_domains", "status", "current_version", "renew_at", "last_error", "created_at",
        "updated_at",
        "ari_window_start", "ari_window_end", "ari_checked_at",
    )  # fmt: skip

    change_list_template = "admin/certificates/certificate/change_list.html"
    change_form_template = "admin/certificates/certificate/change_form.html"

    class Media:
        css = {"all": ("certificates/admin.css",)}

    # "Add" asks an ACME CA (CertificateRequestForm: certificate_request queues the job); a private CA's
    # certificate is issued on the page "Issue from a private CA" (private_issue_view).

    def get_urls(self):
        issue = self.admin_site.admin_view(lambda request: private_issue_view(self, request))
        return [
            path("issue-private/", issue, name="certificates_certificate_issue_private"),
            *self.action_urls(),
            *super().get_urls(),
        ]

    def response_add(self, request, obj, post_url_continue=None):
        job = obj.queued_job
        self.message_user(request, f"{obj}: job {job.pk} {job.status}; this page shows how it goes.")
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:certificates_certificate_change", args=[obj.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if add:
            context["title"] = "Ask an ACME CA for a certificate"
        context["can_act"] = obj is not None and self.has_change_permission(request, obj)
        context["public_files"] = PUBLIC_FILES
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def changelist_view(self, request, extra_context=None):
        can_issue = request.user.has_perm("certificates.add_certificate")
        return super().changelist_view(request, {**(extra_context or {}), "can_issue_private": can_issue})

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = None
        elif obj.is_private:
            kwargs["form"] = PrivateCertificateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return list(self.add_form.base_fields) if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.is_private:
            return (*self.readonly_fields, "authority", "profile", "subject_fields", "alt_names", "key_type", "usage",
                    "notes")  # fmt: skip
        return self.readonly_fields

    inlines = [VersionInline, JobInline]
    # "Revoke…" serves both engines; the private CA's own action adds a hold and an invalidity date.
    actions = ["renew_now", "revoke_selected", revoke_current, reissue_selected]

    def has_revoke_permission(self, request) -> bool:
        return can_revoke(request)

    def has_reissue_permission(self, request) -> bool:
        return can_reissue(request)

    def get_deleted_objects(self, objs, request):
        # Versions and jobs go with their certificate through certificate_delete; nobody deletes those
        # records by hand, so their missing delete permission must not block this one.
        deleted, counts, _records, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    @admin.display(description="issuer")
    def issuer(self, obj):
        return obj.issuer or "—"

    @admin.display(description="next renewal", ordering="renew_at")
    def next_renewal(self, obj):
        return obj.renew_at if obj.auto_renew and obj.renew_at else "—"

    @admin.display(description="expires", ordering="current_version__not_after")
    def expires(self, obj):
        return obj.current_version.not_after if obj.current_version else "—"

    @admin.action(description="Renew now (due or not)", permissions=["change"])
    def renew_now(self, request, queryset):
        for certificate in queryset:
            self.renew_one(request, certificate)

    @admin.action(description="Revoke…", permissions=["change"])
    def revoke_selected(self, request, queryset):
        return self.revoke_selected_page(request, queryset)


@admin.register(CertificateVersion, site=tenant_admin_site)
class CertificateVersionAdmin(ViewOnly, admin.ModelAdmin):
    list_display = (
        "certificate", "number", "serial", "not_after", "ca_account_name", "revoked_at", "revocation_reason",
        "published",
    )  # fmt: skip
    list_filter = ("authority", "revocation_reason")
    search_fields = ("serial", "certificate__identifier")
    exclude = ("private_key",)
    actions = [revoke_versions, unhold_versions]

    def has_revoke_permission(self, request) -> bool:
        return can_revoke(request)

    @admin.display(description="published")
    def published(self, obj):
        return published_at(obj)

    def get_readonly_fields(self, request, obj=None):
        return [*(f.name for f in self.model._meta.fields if f.name != "private_key"), "published"]

    def has_add_permission(self, request):
        return False


@admin.register(Job, site=tenant_admin_site)
class JobAdmin(ViewOnly, RecordAdmin):
    list_display = ("certificate", "operation", "status", "created_at", "duration", "error")
    list_filter = ("status", "operation")
    list_select_related = ("certificate",)

    def get_fields(self, request, obj=None):
        # certbot's output is shown to the tenant's admins only (plugin output is untrusted text).
        fields = super().get_fields(request, obj)
        return fields if _is_admin(request) else [f for f in fields if f != "output"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if _is_admin(request) else [f for f in fields if f != "output"]

    def lookup_allowed(self, lookup, value, request=None):
        # Nor do they filter by it: ?output__contains=… would tell them what it says (a 400 instead).
        if lookup.split("__", 1)[0] == "output" and not _is_admin(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="seconds")
    def duration(self, obj):
        return f"{obj.duration_seconds:.1f}" if obj.duration_seconds is not None else "—"


@admin.register(RenewalSweep, site=tenant_admin_site)
class RenewalSweepAdmin(ViewOnly, RecordAdmin):
    list_display = ("started_at", "as_of", "due", "queued", "renewed", "failed", "reaped")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                renewed_count=Count("jobs", filter=Q(jobs__status="succeeded")),
                failed_count=Count("jobs", filter=Q(jobs__status="failed")),
            )
        )

    @admin.display(description="renewed", ordering="renewed_count")
    def renewed(self, obj):
        return obj.renewed_count

    @admin.display(description="failed", ordering="failed_count")
    def failed(self, obj):
        return obj.failed_count
