from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.accounts.models import Role
from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates import admin_settings  # noqa: F401  (registers its admin page)
from apps.certificates.acme import admin as acme_admin  # noqa: F401  (registers the ACME accounts' pages)
from apps.certificates.models import Certificate, CertificateVersion, Job, KeyDownload, RenewalSweep
from apps.certificates.services.certificates import certificate_delete
from apps.certificates.services.requests import certificate_renew


def _published(version) -> str:
    """Where a version is published and in what state, e.g. "HashiCorp Vault: pending (…reason…)"."""
    rows = [
        f"{p.target.get_backend_display()}: {p.state}" + (f" ({p.last_error})" if p.last_error else "")
        for p in version.publications.all()
    ]
    return "; ".join(rows) or "—"


def _is_admin(request) -> bool:
    return getattr(request.user, "role", None) == Role.ADMIN


class VersionInline(admin.TabularInline):
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


class JobInline(admin.TabularInline):
    model = Job
    fields = ("operation", "status", "created_at", "started_at", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Certificate, site=tenant_admin_site)
class CertificateAdmin(admin.ModelAdmin):
    list_display = (
        "identifier",
        "kind",
        "status",
        "expires",
        "next_renewal",
        "auto_renew",
        "ca_account",
        "dns_account",
    )
    list_filter = ("kind", "status", "auto_renew")
    search_fields = ("identifier", "san_domains")
    list_select_related = ("current_version", "ca_account", "dns_account")
    readonly_fields = (
        "kind", "identifier", "san_domains", "status", "current_version", "renew_at", "last_error", "created_at",
        "updated_at",
    )  # fmt: skip

    def has_add_permission(self, request):
        # Certificates are asked for through the service (validated names, a job): the command or API.
        return False

    inlines = [VersionInline, JobInline]
    actions = ["renew_now"]

    def delete_model(self, request, obj):
        # Through the service: it refuses while a job is open and withdraws the published copies.
        try:
            certificate_delete(certificate=obj, deleted_by=request.user)
        except ValidationError as exc:
            self.message_user(request, f"{obj}: {'; '.join(exc.messages)}", messages.ERROR)

    def delete_queryset(self, request, queryset):
        for certificate in queryset:
            self.delete_model(request, certificate)

    def get_deleted_objects(self, objs, request):
        # Versions and jobs go with their certificate through certificate_delete; nobody deletes those
        # records by hand, so their missing delete permission must not block this one.
        deleted, counts, _records, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from apps.certificates.services.due import certificates_schedule_refresh

        certificates_schedule_refresh(certificates=Certificate.objects.filter(pk=obj.pk))

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
                job, _ = certificate_renew(certificate=certificate, force=True, requested_by=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{certificate}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{certificate}: renewal job {job.pk} {job.status}")


@admin.register(CertificateVersion, site=tenant_admin_site)
class CertificateVersionAdmin(admin.ModelAdmin):
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
class JobAdmin(RecordAdmin):
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
class RenewalSweepAdmin(RecordAdmin):
    list_display = ("started_at", "as_of", "due", "queued", "renewed", "failed", "reaped")

    def get_queryset(self, request):
        from django.db.models import Count, Q

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


@admin.register(KeyDownload, site=tenant_admin_site)
class KeyDownloadAdmin(RecordAdmin):
    """Who took which private key away, when and from where: a record, never edited."""

    list_display = (
        "created_at", "identifier", "version_number", "format", "user_email", "token_prefix", "token_created_by_email",
        "ip_address",
    )  # fmt: skip
    list_filter = ("format",)
    search_fields = ("identifier", "user_email")
