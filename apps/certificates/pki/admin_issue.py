"""Issuing from a private CA in the admin: one form, one call to private_certificate_issue. The profile
decides; its refusal ("'db.other.example': not allowed by profile 'server' (allowed: ...)") is shown
at the form and nothing is signed. Who may issue: whoever may add certificates (operators, admins)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.certificates.models import Certificate, CertificateKind
from apps.certificates.pki.admin_forms import LinesField, pem_field
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.models import CaKeyType, CaState, CertificateProfile
from apps.certificates.pki.names import SUBJECT_FIELDS
from certmate.actors import Actor
from certmate.admin_services import ServiceForm, admin_actor


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CertificateProfile) -> str:
        return f"{obj.authority.name} / {obj.name} ({obj.get_kind_display()})"


class IssueForm(ServiceForm):
    profile = ProfileChoiceField(
        label="CA / profile",
        queryset=CertificateProfile.objects.select_related("authority").filter(authority__state=CaState.ACTIVE),
        help_text="the CA that signs, and the profile the request is held to",
    )
    kind = forms.ChoiceField(choices=CertificateKind.choices, initial=CertificateKind.CLIENT)
    name = forms.CharField(
        required=False, max_length=128, help_text="empty: a server certificate's first DNS name, else made up"
    )
    alt_names = LinesField(
        label="subject alternative names", max_lines=100, help_text="one per line: DNS:x, IP:x, email:x or URI:x"
    )
    key_type = forms.ChoiceField(
        choices=[("", "the profile's default"), *CaKeyType.choices], required=False,
        help_text="for a key made here; ignored with a CSR",
    )  # fmt: skip
    csr_pem = pem_field("CSR (PEM)", required=False, help_text="the requester keeps the key: paste its CSR instead")
    days = forms.IntegerField(required=False, min_value=1, max_value=3650, help_text="empty: the profile's default")
    notes = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Certificate
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SUBJECT_FIELDS:
            self.fields[name] = forms.CharField(label=f"subject {name.replace('_', ' ')}", required=False,
                                                max_length=256)  # fmt: skip
        self.order_fields(["profile", "kind", "name", *SUBJECT_FIELDS])

    def apply(self, actor: Actor) -> Certificate:
        data = self.cleaned_data
        request = PrivateRequest(
            profile=data["profile"],
            kind=data["kind"],
            name=data["name"] or None,
            subject={name: data[name] for name in SUBJECT_FIELDS if data.get(name)},
            alt_names=data["alt_names"],
            key_type=data["key_type"] or None,
            csr_pem=data["csr_pem"] or None,
            days=data["days"],
            notes=data["notes"],
        )
        return private_certificate_issue(request, actor=actor)


def private_issue_view(model_admin, request):
    """The admin page "Issue from a private CA" (on the certificates' admin)."""
    opts = model_admin.opts
    if not request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
        raise PermissionDenied
    request.current_app = model_admin.admin_site.name
    form = type("IssueForm", (IssueForm,), {"actor": admin_actor(request)})(request.POST or None)
    if request.method == "POST" and form.is_valid():
        certificate = form.instance
        model_admin.message_user(request, f"Issued {certificate.kind} certificate {certificate.identifier}.")
        return HttpResponseRedirect(reverse("tenant_admin:certificates_certificate_change", args=[certificate.pk]))
    context = {
        **model_admin.admin_site.each_context(request), "opts": opts, "title": "Issue from a private CA", "form": form,
    }  # fmt: skip
    return TemplateResponse(request, "admin/certificates/service_form.html", context)
