"""What an operator does to one certificate: renew now, revoke (with a reason; for a private CA's also
a hold and an invalidity date), lift a hold, delete. Each is one service call with the portal's actor;
a refusal comes back in the service's words (at the field on a form, else as a message)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.certificates.pki.revoking import private_version_unhold
from apps.certificates.selectors import certificate_version
from apps.certificates.services.certificates import certificate_delete
from apps.certificates.services.requests import certificate_renew
from apps.certificates.services.revocation import certificate_revoke
from apps.portal.base import PortalView
from apps.portal.certificates.common import CertificateFormPage, CertificatePageMixin
from apps.portal.certificates.detail import revoke_reasons
from certmate.admin_services import form_errors_from
from certmate.errors import NotFound


class RenewView(CertificatePageMixin, PortalView):
    """POST: a renewal now, due or not (the page then follows its job)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            job, new = certificate_renew(certificate=self.certificate, force=True, actor=self.actor)
        except ValidationError as exc:
            self.refused(exc)
        else:
            said = f"renewal job {job.pk} queued" if new else f"job {job.pk} is already {job.status}"
            messages.success(request, f"{self.certificate.identifier}: {said}.")
        return self.back()


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", initial="unspecified")
    invalidity_date = forms.DateTimeField(
        label="Invalid since (UTC)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="optional, private CA only: since when the key may be compromised (not for a hold)",
    )  # fmt: skip

    def __init__(self, *args, certificate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [(reason, reason) for reason in revoke_reasons(certificate)]
        if not certificate.is_private:
            del self.fields["invalidity_date"]


class RevokeView(CertificateFormPage):
    """GET: the form (reason, and for a private CA an invalidity date); POST: certificate_revoke."""

    template_name = "portal/certificates/revoke.html"
    title_format = "Revoke {}"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=RevokeForm(certificate=self.certificate)))

    def post(self, request, *args, **kwargs):
        form = RevokeForm(request.POST, certificate=self.certificate)
        if form.is_valid():
            try:
                job = certificate_revoke(certificate=self.certificate, actor=self.actor, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                done = "revoked" if job.status == "succeeded" else f"revocation job {job.pk} {job.status}"
                messages.success(request, f"{self.certificate.identifier}: {done} ({job.revocation_reason}).")
                return self.back()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class UnholdView(CertificatePageMixin, PortalView):
    """POST: lift the hold on a private CA's version (removeFromCRL)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            number = self.kwargs["number"]
            if number >= 2**31:
                raise NotFound(f"no version {number}")
            version = certificate_version(certificate=self.certificate, number=number)
            private_version_unhold(version=version, actor=self.actor)
        except (ValidationError, NotFound) as exc:
            self.refused(exc)
        else:
            messages.success(request, f"{self.certificate.identifier}: the hold on version {version.number} is lifted.")
        return self.back()


class DeleteView(CertificateFormPage):
    """GET: confirm; POST: certificate_delete, then the list."""

    template_name = "portal/certificates/delete.html"
    title_format = "Delete {}"

    def post(self, request, *args, **kwargs):
        try:
            certificate_delete(certificate=self.certificate, actor=self.actor)
        except ValidationError as exc:
            self.refused(exc)
            return self.back()
        messages.success(request, f"{self.certificate.identifier} is deleted.")
        return HttpResponseRedirect(reverse("portal:certificates"))
