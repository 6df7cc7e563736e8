"""/certificates/bulk/: the list's bulk actions. The list posts the ticked rows and the action; this
page asks to confirm (and, to revoke, for a reason), then runs the action row by row through the
services, each row in its own transaction, and shows what happened to each (a refusal is that row's
result in the service's words, never a 500). "Download" answers one ZIP of the rows' public files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role
from apps.certificates.models import Certificate
from apps.certificates.pki.revocation_rules import LEAF_REASONS
from apps.certificates.selectors import certificate_list
from apps.certificates.services.certificates import certificate_auto_renew_set, certificate_delete
from apps.certificates.services.requests import certificate_renew
from apps.certificates.services.revocation import certificate_revoke
from apps.portal.base import PortalView
from apps.portal.certificates.files import file_response, public_zip, said
from certmate.actors import Actor
from certmate.errors import NotFound

MAX_SELECTED = 100
BULK_ACTIONS = {
    "renew": "Renew now",
    "auto_renew_on": "Turn auto-renew on",
    "auto_renew_off": "Turn auto-renew off",
    "download": "Download the public files (ZIP)",
    "revoke": "Revoke",
    "delete": "Delete",
}
INTROS = {
    "renew": "A new version is ordered for each, due or not; the current one is served until then.",
    "download": "One ZIP with each certificate's cert.pem, chain.pem and fullchain.pem (no private key).",
    "revoke": "The current version of each is revoked at its issuer (an ACME CA through a job, a private CA "
    "at once, in its CRL). A hold (certificatehold) is for private CAs only.",
    "delete": "Each certificate is deleted with its versions and jobs; its audit events stay. A certificate "
    "with a job open is refused.",
}


class IdsField(forms.Field):
    """The ticked rows' ids (``ids`` repeated): whole numbers, at most MAX_SELECTED of them. They are
    looked up in this tenant's schema only: another tenant's id is simply not there."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if len(values) > MAX_SELECTED:
            raise ValidationError(f"at most {MAX_SELECTED} certificates at a time", code="too_many")
        if not all(isinstance(item, str) and item.isdigit() and len(item) < 19 for item in values):
            raise ValidationError("not a list of certificates", code="invalid")
        return list(dict.fromkeys(int(item) for item in values))


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    ids = IdsField(error_messages={"required": "tick at least one certificate"})
    reason = forms.ChoiceField(label="Reason", required=False, initial="unspecified",
                               choices=[(reason, reason) for reason in LEAF_REASONS])  # fmt: skip


@dataclass(frozen=True)
class RowResult:
    certificate: Certificate
    ok: bool
    message: str


def _renew(certificate: Certificate, actor: Actor) -> str:
    job, new = certificate_renew(certificate=certificate, force=True, actor=actor)
    return f"renewal job {job.pk} queued" if new else f"job {job.pk} is already {job.status}"


def _revoke(certificate: Certificate, actor: Actor, reason: str) -> str:
    job = certificate_revoke(certificate=certificate, reason=reason, actor=actor)
    if job.status == "succeeded":
        return f"revoked ({job.revocation_reason})"
    return f"revocation job {job.pk} {job.status}"


def _auto_renew(enabled: bool) -> Callable[[Certificate, Actor], str]:
    def change(certificate: Certificate, actor: Actor) -> str:
        certificate_auto_renew_set(certificate=certificate, enabled=enabled, actor=actor)
        return f"auto-renew {'on' if enabled else 'off'}"

    return change


def _delete(certificate: Certificate, actor: Actor) -> str:
    certificate_delete(certificate=certificate, actor=actor)
    return "deleted"


def run_each(rows: list[Certificate], change: Callable[[Certificate, Actor], str], actor: Actor) -> list[RowResult]:
    """``change`` for every row in a transaction of its own: what it said, or why it was refused."""
    results = []
    for certificate in rows:
        try:
            with transaction.atomic():
                results.append(RowResult(certificate, True, change(certificate, actor)))
        except (ValidationError, NotFound) as exc:
            results.append(RowResult(certificate, False, said(exc)))
    return results


class BulkView(PortalView):
    """POST only: the confirmation page, then (``confirm``) the results page or the ZIP."""

    title = "Bulk action"
    nav = "certificates"
    template_name = "portal/certificates/bulk.html"
    read_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request):
        form = BulkForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, rows=[]), status=400)
        data = form.cleaned_data
        rows = list(certificate_list().filter(pk__in=data["ids"]))
        missing = len(data["ids"]) - len(rows)
        context = {"form": form, "rows": rows, "missing": missing, "action": data["action"],
                   "action_label": BULK_ACTIONS[data["action"]], "intro": INTROS.get(data["action"], "")}  # fmt: skip
        if "confirm" not in request.POST:
            return self.render_to_response(self.get_context_data(**context))
        if data["action"] == "download":
            return file_response(public_zip(rows, self.actor))
        change = {
            "renew": _renew,
            "auto_renew_on": _auto_renew(True),
            "auto_renew_off": _auto_renew(False),
            "delete": _delete,
            "revoke": lambda certificate, actor: _revoke(certificate, actor, data["reason"] or "unspecified"),
        }[data["action"]]
        results = run_each(rows, change, self.actor)
        return self.render_to_response(self.get_context_data(results=results, **context))
