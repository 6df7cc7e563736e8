"""The tenant's single sign-on in its admin: saved through services.sso, the client secret write-only."""

from django import forms
from django.contrib import admin
from django.urls import reverse

from apps.accounts.models import Role, SsoSettings
from apps.accounts.services.sso import sso_settings_update
from apps.accounts.sites import KEEP, tenant_admin_site
from apps.accounts.sso.backends import CALLBACK_URL_NAME
from certmate.admin_services import ServiceAdmin, ServiceForm

ROLE_FIELDS = {role.value: f"{role.value}_values" for role in Role}
SETTINGS_FIELDS = ["enabled", "name", "issuer", "client_id", "client_secret", "scopes", "role_claim", "sso_only"]


class SsoSettingsForm(ServiceForm):
    client_secret = forms.CharField(required=False, widget=forms.PasswordInput, help_text=KEEP)
    admin_values = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    operator_values = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    viewer_values = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One claim value per line. A user gets the highest role any of its values maps to; a user "
        "with none of them is refused.",
    )

    class Meta:
        model = SsoSettings
        fields = SETTINGS_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role, field in ROLE_FIELDS.items():
            self.fields[field].initial = "\n".join(self.instance.role_values.get(role, []))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.settings_values = {field: cleaned[field] for field in SETTINGS_FIELDS}
        self.settings_values["role_values"] = {
            role: [line.strip() for line in cleaned[field].splitlines() if line.strip()]
            for role, field in ROLE_FIELDS.items()
        }
        return cleaned

    def apply(self, actor):
        # The service checks every value (a refusal becomes this form's errors) against the stored row.
        return sso_settings_update(values=self.settings_values, actor=actor)


@admin.register(SsoSettings, site=tenant_admin_site)
class SsoSettingsAdmin(ServiceAdmin):
    form = SsoSettingsForm
    list_display = ("__str__", "enabled", "issuer", "client_id", "sso_only", "updated_at")
    readonly_fields = ("updated_at",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)  # a new class per request: its model fields are its own
        redirect_uri = request.build_absolute_uri(reverse(CALLBACK_URL_NAME))
        form.base_fields["client_id"].help_text = f"Register {redirect_uri} as the redirect URI at the provider."
        return form

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SsoSettings.objects.exists()
