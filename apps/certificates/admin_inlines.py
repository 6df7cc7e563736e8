"""A certificate's versions and jobs, shown and never changed by hand: the services (issuance, renewal,
revocation) write them. A published version cannot be deleted from the certificate's page."""

from django.contrib import admin

from apps.certificates.models import CertificateVersion, Job


def published_at(version) -> str:
    """Where a version is published and in what state, e.g. "HashiCorp Vault: pending (…reason…)"."""
    rows = [
        f"{p.target.get_backend_display()}: {p.state}" + (f" ({p.last_error})" if p.last_error else "")
        for p in version.publications.all()
    ]
    return "; ".join(rows) or "—"


class ViewOnly:
    """Shown, never saved: versions and jobs change only through the services (issuance, renewal,
    revocation), so their pages and inlines have no save at all."""

    def has_change_permission(self, request, obj=None):
        return False


class VersionInline(ViewOnly, admin.TabularInline):
    model = CertificateVersion
    fields = (
        "number", "serial", "not_before", "not_after", "key_algorithm", "key_size", "issuer", "issued_by", "revoked_at",
        "published",
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
        return published_at(obj)

    @admin.display(description="CA account")
    def issued_by(self, obj):
        # ACME: the account whose order issued it (after an issuer fallback, not the certificate's own).
        return obj.ca_account_name or "—"


class JobInline(ViewOnly, admin.TabularInline):
    model = Job
    fields = ("operation", "status", "created_at", "started_at", "finished_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("certificate")  # each row shows str(job)
