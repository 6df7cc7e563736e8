"""Revoking in the tenant admin: actions on certificates (their current version), on versions (revoke,
lift a hold) and on CAs (an intermediate, into its root's CRL). An action that needs a reason shows a
small form first (the selected rows carried along); each row then goes through the revocation service
on its own, its refusal a message (an ACME certificate, a version revoked for good), never a 500.
Bulk revocations are shown as the job left them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse

from apps.accounts.sites import RecordAdmin, tenant_admin_site
from apps.certificates.models import BulkRevocation
from apps.certificates.pki.revocation_rules import CA_REQUEST_REASONS, LEAF_REASONS
from apps.certificates.pki.revoking import ca_revoke, private_version_revoke, private_version_unhold
from apps.certificates.selectors import certificate_version
from certmate.admin_services import admin_actor
from certmate.errors import NotFound

APPLY = "apply"  # the button of the reason form: the action runs


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(reason, reason) for reason in LEAF_REASONS],
        initial="unspecified",
        help_text="RFC 5280; certificatehold suspends (lift it with the versions' action)",
    )
    invalidity_date = forms.DateTimeField(
        required=False, help_text="keycompromise: since when the key may be compromised (YYYY-MM-DD HH:MM, UTC)"
    )


class CaRevokeForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(reason, reason) for reason in CA_REQUEST_REASONS],
        initial="unspecified",
        help_text="keycompromise is recorded as cacompromise, a CA's own",
    )


def _each(model_admin, request, rows, done: str, change) -> None:
    """``change(row, actor)`` for every row, each in its own transaction; refusals as messages."""
    actor = admin_actor(request)
    for row in rows:
        try:
            with transaction.atomic():
                change(row, actor)
        except (ValidationError, NotFound) as exc:
            said = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            model_admin.message_user(request, f"{row}: {said}", messages.ERROR)
        else:
            model_admin.message_user(request, f"{row}: {done}")


def _with_reason(model_admin, request, queryset, form_class, title: str, change):
    """The reason form for the selected rows; once submitted and valid, ``change(row, actor, data)``."""
    form = form_class(request.POST if APPLY in request.POST else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        _each(model_admin, request, queryset, f"revoked ({data['reason']})",
              lambda row, actor: change(row, actor, data))  # fmt: skip
        return None  # back to the list, with the messages
    context = {
        **model_admin.admin_site.each_context(request), "opts": model_admin.opts, "title": title, "form": form,
        "rows": list(queryset), "action": request.POST.get("action", ""), "apply": APPLY,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    }  # fmt: skip
    return TemplateResponse(request, "admin/certificates/revoke_action.html", context)


def _revoke_version(version, actor, data) -> None:
    private_version_revoke(version=version, reason=data["reason"], actor=actor,
                           invalidity_date=data.get("invalidity_date"))  # fmt: skip


@admin.action(description="Revoke the current version (private CA)", permissions=["revoke"])
def revoke_current(model_admin, request, queryset):
    return _with_reason(model_admin, request, queryset, RevokeForm, "Revoke the current versions of",
                        lambda certificate, actor, data: _revoke_version(certificate_version(certificate=certificate),
                                                                         actor, data))  # fmt: skip


@admin.action(description="Revoke (private CA)", permissions=["revoke"])
def revoke_versions(model_admin, request, queryset):
    return _with_reason(model_admin, request, queryset, RevokeForm, "Revoke these versions", _revoke_version)


@admin.action(description="Lift a hold (removeFromCRL)", permissions=["revoke"])
def unhold_versions(model_admin, request, queryset):
    _each(model_admin, request, queryset, "not revoked",
          lambda version, actor: private_version_unhold(version=version, actor=actor))  # fmt: skip


@admin.action(description="Revoke (an intermediate: listed in its root's CRL, retired)", permissions=["manage"])
def revoke_authorities(model_admin, request, queryset):
    return _with_reason(model_admin, request, queryset, CaRevokeForm, "Revoke these CAs",
                        lambda authority, actor, data: ca_revoke(authority=authority, reason=data["reason"],
                                                                 actor=actor))  # fmt: skip


def can_revoke(request) -> bool:
    """Whoever may change certificates (operators, admins) revokes them, as through the API."""
    return request.user.has_perm("certificates.change_certificate")


@admin.register(BulkRevocation, site=tenant_admin_site)
class BulkRevocationAdmin(RecordAdmin):
    list_display = ("pk", "authority", "reason", "status", "total", "revoked", "failed", "created_at", "finished_at")
    list_filter = ("status", "authority")
    list_select_related = ("authority",)

    def has_change_permission(self, request, obj=None):
        return False
