from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import path

from apps.accounts.models import Role
from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates import admin_events, admin_settings  # noqa: F401  (their pages)
from apps.certificates.acme import admin as acme_admin  # noqa: F401  (the ACME accounts' pages)
from apps.certificates.models import Certificate, CertificateVersion, Job, RenewalSweep
from apps.certificates.pki import admin as pki_admin  # noqa: F401  (the private CAs' and profiles' pages)
from apps.certificates.pki.admin_issue import private_issue_view
from apps.certificates.services.certificates import certificate_delete, certificate_update
from apps.certificates.services.requests import certificate_renew
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm, admin_actor


def _published(version) -> str:
    """Where a version is published and in what state, e.g. "HashiCorp Vault: pending (…reason…)"."""
    rows = [
        f"{p.target.get_backend_display()}: {p.state}" + (f" ({p.last_error})" if p.last_error else "")
        for p in version.publications.all()
    ]
    return "; ".join(rows) or "—"


def _is_admin(request) -> bool:
    return getattr(request.user, "role", None) == Role.ADMIN


class ViewOnly:
    """Shown, never saved: versions and jobs change only through the services (issuance, renewal,
    revocation), so their pages and inlines have no save at all."""

    def has_change_permission(self, request, obj=None):
        return False


class VersionInline(ViewOnly, admin.TabularInline):
    model = CertificateVersion
    fields = (
        "number", "serial", "not_before", "not_after", "key_algorithm", "key_size", "issuer", "revoked_at", "published",
    )  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("publications__target")

    @admin.display(description="published")
    def published(self, obj):
        return _published(obj)


class JobInline(ViewOnly, admin.TabularInline):
    model = Job
    fields = ("operation", "status", "created_at", "started_at", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("certificate")  # each row shows str(job)


class CertificateForm(ServiceForm):
    """How a certificate is issued and renewed, saved by certificate_update: a change it refuses (the
    key type or an account while a job is open) is a form error, as the API's 409 is."""

    class Meta:
        model = Certificate
        fields = ("key_type", "ca_account", "dns_account", "auto_renew", "renew_before_days")

    def apply(self, actor: Actor) -> Certificate:
        values = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        return certificate_update(certificate=self.instance, actor=actor, **values)


class PrivateCertificateForm(CertificateForm):
    """A private CA's certificate: its CA, profile and names are fixed; how it renews is not."""

    class Meta:
        model = Certificate
        fields = ("auto_renew", "renew_before_days")


def _certificate_delete(*, obj: Certificate, actor: Actor) -> None:
    # Through the service: it refuses while a job is open and withdraws the published copies.
    certificate_delete(certificate=obj, actor=actor)


@admin.register(Certificate, site=tenant_admin_site)
class CertificateAdmin(ServiceAdmin):
    form = CertificateForm
    delete_service = staticmethod(_certificate_delete)
    list_display = (
        "identifier",
        "kind",
        "status",
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
    )  # fmt: skip

    change_list_template = "admin/certificates/certificate/change_list.html"

    def has_add_permission(self, request):
        # Certificates are asked for through the service (validated names, a job): the command or API,
        # or, from a private CA, the page "Issue from a private CA" (private_issue_view).
        return False

    def get_urls(self):
        issue = self.admin_site.admin_view(lambda request: private_issue_view(self, request))
        return [path("issue-private/", issue, name="certificates_certificate_issue_private"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        can_issue = request.user.has_perm("certificates.add_certificate")
        return super().changelist_view(request, {**(extra_context or {}), "can_issue_private": can_issue})

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and obj.is_private:
            kwargs["form"] = PrivateCertificateForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_private:
            return (*self.readonly_fields, "authority", "profile", "subject_fields", "alt_names", "key_type", "usage",
                    "notes")  # fmt: skip
        return self.readonly_fields

    inlines = [VersionInline, JobInline]
    actions = ["renew_now"]

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

    @admin.action(description="Renew now", permissions=["change"])
    def renew_now(self, request, queryset):
        for certificate in queryset:
            try:
                job, _ = certificate_renew(certificate=certificate, force=True, actor=admin_actor(request))
            except ValidationError as exc:
                self.message_user(request, f"{certificate}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{certificate}: renewal job {job.pk} {job.status}")


@admin.register(CertificateVersion, site=tenant_admin_site)
class CertificateVersionAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ("certificate", "number", "serial", "not_after", "fingerprint_sha256", "published")
    exclude = ("private_key",)

    @admin.display(description="published")
    def published(self, obj):
        return _published(obj)

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
