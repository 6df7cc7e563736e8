"""Bulk reissues in the tenant admin: an action on the certificate list ("Reissue the selected…": a page
asking whether to revoke the old versions and why, then one bulk reissue of them through
bulk_reissue_create), and the bulk reissues themselves, shown as their task leaves them, with an item
per certificate. Admins ask for one, as through the API; everyone who sees certificates may follow it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.accounts.models import Role
from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates.admin_inlines import ViewOnly
from apps.certificates.models import BulkReissue, ReissueItem
from apps.certificates.reissue_selectors import bulk_reissue_list, item_error, item_progress, with_results
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.services.reissue import MAX_IDS, bulk_reissue_create
from certmate.admin_services import admin_actor

INTRO = (
    "Each selected certificate is renewed now, due or not, paced by its CA account's order limit. With "
    "“revoke the old versions”, each old version is revoked once its replacement is stored and published; "
    "a failed renewal revokes nothing and its old version stays current."
)


class ReissueForm(forms.Form):
    revoke_old = forms.BooleanField(
        label="revoke the old versions",
        required=False,
        initial=True,
        help_text="each once its replacement is live on the storage target",
    )
    reason = forms.ChoiceField(
        choices=[(reason, reason) for reason in REVOCATION_REASONS],
        initial="superseded",
        help_text="RFC 5280, for each old version (with revoke the old versions)",
    )


def can_reissue(request) -> bool:
    """Admins, as the API's POST /api/reissues."""
    return getattr(request.user, "role", None) == Role.ADMIN


@admin.action(description="Reissue the selected (renew, then revoke the old versions)…", permissions=["reissue"])
def reissue_selected(model_admin, request, queryset):
    """The form first; once submitted, one bulk reissue of the selected certificates (by their ids)."""
    form = ReissueForm(request.POST if "reason" in request.POST else None)
    ids = list(queryset.values_list("pk", flat=True)[: MAX_IDS + 1])
    if form.is_bound and form.is_valid():
        revoke_old = form.cleaned_data["revoke_old"]
        try:
            bulk = bulk_reissue_create(
                selector={"ids": ids},
                revoke_old=revoke_old,
                reason=form.cleaned_data["reason"] if revoke_old else None,
                actor=admin_actor(request),
            )
        except ValidationError as exc:
            model_admin.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return None
        model_admin.message_user(
            request, f"bulk reissue {bulk.pk}: {bulk.total} certificates queued; this page shows how it goes."
        )
        return HttpResponseRedirect(
            reverse(f"{model_admin.admin_site.name}:certificates_bulkreissue_change", args=[bulk.pk])
        )
    return model_admin._page(
        request,
        "Reissue the selected certificates",
        form=form,
        certificates=list(queryset),
        action="reissue_selected",
        intro=INTRO,
        submit="Reissue",
    )


class ReissueItemInline(ViewOnly, admin.TabularInline):
    model = ReissueItem
    fields = ("certificate", "old", "new", "status", "progress", "failure", "renewal_job", "revocation_job")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        # Each job is shown by its name, which reads its certificate.
        rows = with_results(super().get_queryset(request))
        return rows.select_related("renewal_job__certificate", "revocation_job__certificate")

    @admin.display(description="old version")
    def old(self, item):
        return item.old_version.number if item.old_version else "—"

    @admin.display(description="new version")
    def new(self, item):
        return item.new_version.number if item.new_version else "—"

    @admin.display(description="waiting for")
    def progress(self, item):
        return item_progress(item) or "—"

    @admin.display(description="error")
    def failure(self, item):
        return item_error(item) or "—"


@admin.register(BulkReissue, site=tenant_admin_site)
class BulkReissueAdmin(RecordAdmin):
    list_display = (
        "pk",
        "status",
        "progress",
        "revoke_old",
        "reason",
        "requested_by_name",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "revoke_old")
    inlines = [ReissueItemInline]

    def get_queryset(self, request):
        return bulk_reissue_list()

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "progress"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, bulk):
        return (
            f"{bulk.items_done} of {bulk.total} finished: {bulk.renewed} renewed, {bulk.revoked} revoked, "
            f"{bulk.failed} failed"
        )
