"""/certificates/request/: ask an ACME CA for a server certificate (certificate_request: a job is
queued, the certificate's page then follows it) or issue one from a private CA at once
(private_certificate_issue). The forms are the service forms the tenant admin uses; a refusal is shown
at the field it is about, in the service's (or the profile's) own words."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from apps.accounts.models import Role
from apps.certificates.admin_request import CertificateRequestForm
from apps.certificates.pki.admin_forms import MAX_PEM
from apps.certificates.pki.admin_issue import IssueForm
from apps.certificates.pki.names import SUBJECT_FIELDS
from apps.portal.base import PortalView

ENGINES = ("acme", "private")
# Where a private CA's refusal belongs, by its code; the profile's own refusals (profile_refused) by
# what they name (see refusal_field).
FIELD_OF_CODE = {
    "invalid_subject": "common_name", "invalid_csr": "csr_pem", "invalid_key_type": "key_type",
    "invalid_validity": "days", "invalid_name": "alt_names", "exists": "name", "ca_unavailable": "profile",
}  # fmt: skip
PROFILE_RULES = (("requires the subject field", None), ("key types:", "key_type"), (" days", "days"),
                 ("signs no CSRs", "csr_pem"), ("send a CSR", "csr_pem"), ("certificates only", "kind"))  # fmt: skip


def refusal_field(message: str, code: str | None, data: dict) -> str | None:
    """The field a private CA's refusal is about: by its code, or for the profile's own refusal by the
    value it quotes (a SAN, a subject field) or the rule it names."""
    if code != "profile_refused":
        return FIELD_OF_CODE.get(code or "")
    text = message.lower()
    for name in data.get("alt_names") or []:
        if any(f"'{part.strip().lower()}'" in text for part in (name, name.partition(":")[2]) if part.strip()):
            return "alt_names"
    for field in SUBJECT_FIELDS:
        value = (data.get(field) or "").strip().lower()
        if value and f"'{value[:100]}'" in text:
            return field
    for words, field in PROFILE_RULES:
        if words in message:
            required = message.split(words, 1)[1].split("(s)", 1)[-1].strip().split(",")[0].strip()
            return field or (required if required in SUBJECT_FIELDS else None)
    return None


class AcmeForm(CertificateRequestForm):
    prefix = "acme"


class PrivateForm(IssueForm):
    prefix = "private"
    csr_file = forms.FileField(label="CSR file", required=False, help_text="or upload the CSR (PEM) instead")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("csr_file")
        if upload:
            if upload.size > MAX_PEM:
                self.add_error("csr_file", f"at most {MAX_PEM // 1024} KiB")
            else:
                try:
                    cleaned["csr_pem"] = upload.read(MAX_PEM).decode("ascii")
                except UnicodeDecodeError:
                    self.add_error("csr_file", "not a PEM file (send -----BEGIN CERTIFICATE REQUEST-----)")
        return cleaned

    def apply(self, actor):
        try:
            return super().apply(actor)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") or len(exc.error_list) != 1:
                raise
            error = exc.error_list[0]
            field = refusal_field(" ".join(error.messages), error.code, self.cleaned_data)
            if field == "csr_pem" and self.cleaned_data.get("csr_file"):
                field = "csr_file"
            raise (ValidationError({field: exc}) if field in self.fields else exc) from None


class RequestView(PortalView):
    title = "Request a certificate"
    nav = "request"
    template_name = "portal/certificates/request.html"
    read_role = Role.OPERATOR

    def forms(self, engine: str | None = None):
        """Both forms, the one posted bound; each saves through its service with the portal's actor."""
        made = {}
        for name, form_class in (("acme", AcmeForm), ("private", PrivateForm)):
            bound = engine == name
            form_class = type(form_class.__name__, (form_class,), {"actor": self.actor})
            made[name] = form_class(self.request.POST, self.request.FILES) if bound else form_class()
        return made

    def get_context_data(self, **kwargs):
        kwargs.setdefault("forms", self.forms())
        kwargs.setdefault("engine", self.request.GET.get("engine") if self.request.GET.get("engine") in ENGINES
                          else "acme")  # fmt: skip
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        engine = request.POST.get("engine")
        if engine not in ENGINES:
            return self.render_to_response(self.get_context_data(), status=400)
        forms_ = self.forms(engine)
        form = forms_[engine]
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(forms=forms_, engine=engine), status=400)
        certificate = form.instance
        if engine == "acme":
            job = certificate.queued_job
            messages.success(request, f"Asked for {certificate.identifier}: job {job.pk} is {job.status}.")
        else:
            messages.success(request, f"Issued the {certificate.kind} certificate {certificate.identifier}.")
        return HttpResponseRedirect(reverse("portal:certificate", args=[certificate.pk]))
