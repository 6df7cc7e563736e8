"""The tenant's admin for ACME CA accounts and DNS accounts, saved and deleted through their services
(the API's): a refusal is a form error, every change an audit event. Secrets are write-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.accounts.sites import KEEP, tenant_admin_site
from apps.accounts.validators import validate_eab_hmac_key
from apps.certificates.acme.accounts import (
    ca_account_create,
    ca_account_delete,
    ca_account_eab_kept,
    ca_account_update,
    ca_directory_url,
    dns_account_create,
    dns_account_delete,
    dns_account_update,
    dns_credentials_kept,
)
from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, PROVIDERS, get_provider
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm, json_from_form


class AccountForm(ServiceForm):
    def validate_unique(self):
        # The service decides: a taken name or a second default is its refusal (its words, its code),
        # as through the API, and a new default takes over from the old one there.
        pass


CA_ACCOUNT_FIELDS = ["name", "directory_url", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default"]
REGISTERED_CA_ACCOUNT_FIELDS = ["name", "trust_bundle", "is_default"]
DNS_ACCOUNT_FIELDS = ["name", "provider", "propagation_seconds", "is_default"]


class CaAccountForm(AccountForm):
    directory_url = forms.URLField(label="ACME directory URL", assume_scheme="https", max_length=500)
    eab_hmac_key = forms.CharField(
        label="EAB HMAC key",
        required=False,
        widget=forms.PasswordInput,
        help_text=KEEP + " A new directory URL needs it again.",
        validators=[validate_eab_hmac_key],
    )

    class Meta:
        model = CaAccount
        fields = CA_ACCOUNT_FIELDS

    def clean_directory_url(self):
        # https only, on a host the platform's egress rule allows: the same check as the API's.
        return ca_directory_url(self.cleaned_data["directory_url"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("eab_hmac_key") and self.instance.pk and "directory_url" in cleaned:
            # Left empty: the stored key, unless the directory changes (then it must be given again).
            cleaned["eab_hmac_key"] = ca_account_eab_kept(account=self.instance, directory_url=cleaned["directory_url"])
        return cleaned

    def apply(self, actor: Actor) -> CaAccount:
        values = {name: self.cleaned_data[name] for name in CA_ACCOUNT_FIELDS}
        values["directory"] = values.pop("directory_url")
        if self.instance.pk:
            return ca_account_update(account=self.instance, actor=actor, **values)
        return ca_account_create(actor=actor, **values)


class RegisteredCaAccountForm(AccountForm):
    class Meta:
        model = CaAccount
        fields = REGISTERED_CA_ACCOUNT_FIELDS

    def apply(self, actor: Actor) -> CaAccount:
        values = {name: self.cleaned_data[name] for name in REGISTERED_CA_ACCOUNT_FIELDS}
        return ca_account_update(account=self.instance, actor=actor, **values)


class AccountAdmin(ServiceAdmin):
    def get_deleted_objects(self, objs, request):
        # The service refuses to delete an account in use (its words, as the API's 409): the admin asks it
        # rather than answer for it from the certificates that protect the row.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, []


def _ca_account_delete(*, obj: CaAccount, actor: Actor) -> None:
    ca_account_delete(account=obj, actor=actor)


def _dns_account_delete(*, obj: DnsAccount, actor: Actor) -> None:
    dns_account_delete(account=obj, actor=actor)


@admin.register(CaAccount, site=tenant_admin_site)
class CaAccountAdmin(AccountAdmin):
    form = CaAccountForm
    delete_service = staticmethod(_ca_account_delete)
    list_display = ("name", "directory_url", "email", "is_default", "registered_at")
    readonly_fields = ("acme_account_uri", "registered_at")

    def get_readonly_fields(self, request, obj=None):
        # The ACME account belongs to this directory, e-mail and EAB key: once registered they are fixed
        # (a new CA account is the way to change them).
        if obj is not None and obj.registered_at:
            return (*self.readonly_fields, "directory_url", "email", "eab_kid")
        return self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and obj.registered_at:
            kwargs["form"] = RegisteredCaAccountForm
        return super().get_form(request, obj, **kwargs)


class DnsAccountForm(AccountForm):
    provider = forms.ChoiceField(choices=sorted((key, p.label) for key, p in PROVIDERS.items()))
    propagation_seconds = forms.IntegerField(
        min_value=0,
        max_value=MAX_PROPAGATION_SECONDS,
        required=False,
        help_text="seconds to wait for DNS changes to spread; empty: the provider's default",
    )
    credentials_json = forms.CharField(
        label="credentials (JSON object)", required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text=KEEP
    )

    class Meta:
        model = DnsAccount
        fields = DNS_ACCOUNT_FIELDS

    def clean(self):
        cleaned = super().clean()
        raw = cleaned.get("credentials_json")
        if not raw and self.instance.pk:
            try:
                credentials = dns_credentials_kept(
                    account=self.instance, provider=cleaned.get("provider", self.instance.provider)
                )
            except ValidationError as exc:
                raise ValidationError({"credentials_json": exc.message_dict["credentials"]}) from None
        else:
            try:
                credentials = json_from_form(raw or "{}")
                self.typed_credentials = credentials
            except ValidationError as exc:
                self._forget_typed_credentials()
                raise ValidationError({"credentials_json": exc.messages}) from None
        if "provider" in cleaned:
            try:
                self.instance.credentials = get_provider(cleaned["provider"]).validate(credentials)
            except ValidationError as exc:
                self._forget_typed_credentials()
                raise ValidationError({"credentials_json": exc.messages}) from None
        return cleaned

    def apply(self, actor: Actor) -> DnsAccount:
        values = {name: self.cleaned_data[name] for name in DNS_ACCOUNT_FIELDS}
        typed = getattr(self, "typed_credentials", None)
        if not self.instance.pk:
            return dns_account_create(actor=actor, credentials=typed or {}, **values)
        if typed is not None:
            values["credentials"] = typed  # given: they replace the stored ones whole
        return dns_account_update(account=self.instance, actor=actor, **values)

    def _forget_typed_credentials(self) -> None:
        # The form comes back with its errors: the secrets typed into it must not come back with it.
        self.data = self.data.copy()
        self.data["credentials_json"] = ""


@admin.register(DnsAccount, site=tenant_admin_site)
class DnsAccountAdmin(AccountAdmin):
    form = DnsAccountForm
    delete_service = staticmethod(_dns_account_delete)
    list_display = ("name", "provider", "is_default", "propagation_seconds", "stored_keys")
    list_filter = ("provider",)

    @admin.display(description="stored credential keys")
    def stored_keys(self, obj):
        return ", ".join(sorted(obj.credentials)) or "—"
