"""The tenant's admin for certificate profiles (tenant admins only): a typed field for every rule —
checkboxes for usages, SAN types, key types and subject fields, one textarea of name patterns per SAN
type — saved through profile_create / profile_update, deleted through profile_delete. The service
checks every value; its refusal (a bad pattern, an unknown OID) is a form error, never a 500."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from apps.accounts.sites import tenant_admin_site
from apps.certificates.pki.admin_forms import LinesField
from apps.certificates.pki.models import CaKeyType, CaOrigin, CertificateAuthority, CertificateProfile, SanType
from apps.certificates.pki.names import SUBJECT_FIELDS
from apps.certificates.pki.profile_services import FIELDS, profile_create, profile_delete, profile_update
from apps.certificates.pki.profiles import EXTENDED_KEY_USAGES, KEY_USAGES
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm

PATTERN_HELP = {
    SanType.DNS: "one per line: an exact name or *.internal.example (any name below); empty: any name",
    SanType.IP: "one per line: a network, 10.0.0.0/8; empty: any address",
    SanType.EMAIL: "one per line: @example.com (a domain) or an address; empty: any address",
    SanType.URI: "one per line: a prefix, spiffe://example.org/; empty: any URI",
}
SUBJECT_CHOICES = [(name, name.replace("_", " ")) for name in SUBJECT_FIELDS]


def _checkboxes(choices, label: str, help_text: str = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, required=False, label=label, help_text=help_text, widget=forms.CheckboxSelectMultiple
    )


def _patterns(san_type: str) -> LinesField:
    return LinesField(label=f"{SanType(san_type).label} patterns", max_lines=50, help_text=PATTERN_HELP[san_type])


class ProfileForm(ServiceForm):
    key_usage = _checkboxes([(k, k) for k in KEY_USAGES], "key usage")
    extended_key_usage = _checkboxes([(k, k) for k in EXTENDED_KEY_USAGES], "extended key usage")
    custom_ekus = LinesField(label="custom extended key usages", max_lines=10, help_text="dotted OIDs, one per line")
    san_types = _checkboxes(SanType.choices, "allowed SAN types")
    patterns_dns, patterns_ip = _patterns(SanType.DNS), _patterns(SanType.IP)
    patterns_email, patterns_uri = _patterns(SanType.EMAIL), _patterns(SanType.URI)
    key_types = _checkboxes(CaKeyType.choices, "allowed key types", "none ticked: any")
    subject_copy = _checkboxes(SUBJECT_CHOICES, "subject fields to copy", "none ticked: the usual ones")
    subject_require = _checkboxes(SUBJECT_CHOICES, "subject fields to require")

    class Meta:
        model = CertificateProfile
        fields = ["authority", "name", *(f for f in FIELDS if f != "name_patterns")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "authority" in self.fields:
            # Leaves come from intermediates and imported CAs, never from a root made here.
            self.fields["authority"].queryset = CertificateAuthority.objects.exclude(origin=CaOrigin.ROOT)
        instance = self.instance
        if instance.pk:
            for san_type in SanType.values:
                self.initial[f"patterns_{san_type}"] = instance.name_patterns.get(san_type, [])
            self.initial["extended_key_usage"] = [e for e in instance.extended_key_usage if e in EXTENDED_KEY_USAGES]
            self.initial["custom_ekus"] = [e for e in instance.extended_key_usage if e not in EXTENDED_KEY_USAGES]

    def validate_unique(self):
        pass  # the service says when the CA has a profile of that name already

    def _get_validation_exclusions(self):
        # Nor does the model's (authority, name) constraint answer first: the service's words, as the API's.
        return {*super()._get_validation_exclusions(), "authority", "name"}

    def values(self) -> dict:
        data = self.cleaned_data
        values = {name: data[name] for name in FIELDS if name in data}
        values["extended_key_usage"] = [*data["extended_key_usage"], *data["custom_ekus"]]
        values["name_patterns"] = {t: data[f"patterns_{t}"] for t in SanType.values if data[f"patterns_{t}"]}
        return values

    def apply(self, actor: Actor) -> CertificateProfile:
        if self.instance.pk:
            return profile_update(profile=self.instance, actor=actor, **self.values())
        data = self.cleaned_data
        return profile_create(authority=data["authority"], name=data["name"], actor=actor, **self.values())


def _profile_delete(*, obj: CertificateProfile, actor: Actor) -> None:
    profile_delete(profile=obj, actor=actor)


@admin.register(CertificateProfile, site=tenant_admin_site)
class CertificateProfileAdmin(ServiceAdmin):
    form = ProfileForm
    delete_service = staticmethod(_profile_delete)
    list_display = ("__str__", "kind", "usages", "default_days", "max_days", "allow_server_key", "allow_csr")
    list_filter = ("authority", "kind")
    list_select_related = ("authority",)
    search_fields = ("name", "description", "authority__name")
    fieldsets = (
        (None, {"fields": ("authority", "name", "description", "kind")}),
        ("Usages", {"fields": ("key_usage", "extended_key_usage", "custom_ekus")}),
        ("Names", {"fields": ("san_types", "patterns_dns", "patterns_ip", "patterns_email", "patterns_uri")}),
        ("Keys", {"fields": ("key_types", "default_key_type", "allow_server_key", "allow_csr", "allow_csr_resign")}),
        ("Validity and subject", {"fields": ("default_days", "max_days", "subject_copy", "subject_require")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # A profile's CA and name are what certificates and renewals find it by: fixed once made.
        return ("authority", "name") if obj is not None else ()

    def get_deleted_objects(self, objs, request):
        # The service refuses a profile in use (its words); the admin does not answer for it.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, []

    @admin.display(description="extended key usage")
    def usages(self, obj):
        return ", ".join(obj.extended_key_usage) or "—"
