"""The tenant's admin for ACME CA accounts and DNS accounts, saved and deleted through their services
(the API's): a refusal is a form error, every change an audit event. Secrets are write-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from apps.accounts.sites import KEEP, tenant_admin_site
from apps.accounts.validators import validate_eab_hmac_key
from apps.certificates.acme.accounts import (
    ca_account_create,
    ca_account_delete,
    ca_account_eab_kept,
    ca_account_update,
    ca_directory_url,
)
from apps.certificates.acme.admin_dns import DNS_ACCOUNT_FIELDS, EXTRA, DnsAccountForm, provider_fieldsets
from apps.certificates.acme.directory import DirectoryError, ca_account_directory_read
from apps.certificates.acme.dns_accounts import dns_account_delete
from apps.certificates.acme.dns_test import dns_account_test
from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount
from apps.certificates.services.acme_options import MAX_FALLBACK_POSITION
from certmate.actors import Actor
from certmate.admin_services import ServiceAdmin, ServiceForm, admin_actor


class AccountForm(ServiceForm):
    def validate_unique(self):
        # The service decides: a taken name or a second default is its refusal (its words, its code),
        # as through the API, and a new default takes over from the old one there.
        pass


CA_ACCOUNT_FIELDS = [
    "name", "directory_url", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default", "fallback_position",
]  # fmt: skip
REGISTERED_CA_ACCOUNT_FIELDS = ["name", "trust_bundle", "is_default", "fallback_position"]
FALLBACK_POSITION_HELP = (
    "its place in the tenant's default issuer fallback chain (1 first; empty: not in it): tried in order after a "
    "certificate's own CA account failed for a reason another CA could fix, for certificates without a chain of "
    "their own"
)


class FallbackPositionMixin:
    """The fallback position's bounds and words, the service's (it checks them again)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["fallback_position"]
        field.help_text = FALLBACK_POSITION_HELP
        field.validators = [*field.validators, MinValueValidator(1), MaxValueValidator(MAX_FALLBACK_POSITION)]
        field.widget.attrs.update(min=1, max=MAX_FALLBACK_POSITION)


class CaAccountForm(FallbackPositionMixin, AccountForm):
    preset = forms.ChoiceField(
        label="ACME CA",
        required=False,
        choices=[
            ("", "another CA: its directory URL below"),
            *((key, label) for key, (label, _) in CA_PRESETS.items()),
        ],
        help_text="a well-known CA by name, or its directory URL below",
    )
    directory_url = forms.URLField(
        label="ACME directory URL", assume_scheme="https", max_length=500, required=False,
        help_text="for a CA that is not in the list (https only)",
    )  # fmt: skip
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        url = self.instance.directory_url
        self.fields["preset"].initial = next((key for key, (_, at) in CA_PRESETS.items() if at == url), "")

    def clean_directory_url(self):
        # https only, on a host the platform's egress rule allows: the same check as the API's.
        url = self.cleaned_data["directory_url"]
        return ca_directory_url(url) if url else ""

    def clean(self):
        cleaned = super().clean()
        preset, url = cleaned.get("preset"), cleaned.get("directory_url")
        if preset and url and url != CA_PRESETS[preset][1]:
            raise ValidationError({"directory_url": "choose a CA from the list or type its directory URL, not both"})
        if preset:
            cleaned["directory_url"] = CA_PRESETS[preset][1]
        elif not url and "directory_url" not in self.errors:
            raise ValidationError({"directory_url": "choose a CA from the list or type its directory URL"})
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


class RegisteredCaAccountForm(FallbackPositionMixin, AccountForm):
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


TESTED_AT_ONCE = 5  # accounts tested or read per action: each may wait seconds for its server


@admin.register(CaAccount, site=tenant_admin_site)
class CaAccountAdmin(AccountAdmin):
    form = CaAccountForm
    delete_service = staticmethod(_ca_account_delete)
    list_display = ("name", "directory_url", "email", "is_default", "fallback_position", "registered_at", "offers_ari")
    readonly_fields = ("acme_account_uri", "registered_at", "offered_profiles", "renewal_info_url", "directory_read_at")
    actions = ["refresh_directories"]

    @admin.action(
        description="Read the selected CA accounts' directories again (profiles, ARI)", permissions=["change"]
    )
    def refresh_directories(self, request, queryset):
        accounts = list(queryset[: TESTED_AT_ONCE + 1])
        for account in accounts[:TESTED_AT_ONCE]:
            try:
                account = ca_account_directory_read(account=account, actor=admin_actor(request))
            except DirectoryError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            ari = "offers ARI" if account.renewal_info_url else "offers no ARI"
            profiles = ", ".join(sorted(account.profiles)) or "none"
            self.message_user(request, f"CA account {account.name}: {ari}; profiles: {profiles}.", messages.SUCCESS)
        if len(accounts) > TESTED_AT_ONCE:
            self.message_user(request, f"Read the first {TESTED_AT_ONCE} only: select fewer.", messages.WARNING)

    @admin.display(description="ARI", boolean=True)
    def offers_ari(self, obj):
        return bool(obj.renewal_info_url) if obj.directory_read_at else None

    @admin.display(description="profiles its directory offers")
    def offered_profiles(self, obj):
        if obj.directory_read_at is None:
            return 'not read yet: its first order reads it, or the action "Read … directories again"'
        return "; ".join(f"{name}: {text}" if text else name for name, text in sorted(obj.profiles.items())) or "none"

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

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "preset"]
        if "directory_url" in fields and not (obj is not None and obj.registered_at):
            fields.insert(fields.index("directory_url"), "preset")  # the CA by name, then a custom URL
        return fields


@admin.register(DnsAccount, site=tenant_admin_site)
class DnsAccountAdmin(AccountAdmin):
    form = DnsAccountForm
    delete_service = staticmethod(_dns_account_delete)
    list_display = ("name", "provider", "is_default", "propagation_seconds", "propagation_check", "stored_keys")
    list_filter = ("provider",)
    actions = ["test_accounts"]

    @admin.action(description="Test the selected DNS accounts (changes nothing)", permissions=["change"])
    def test_accounts(self, request, queryset):
        accounts = list(queryset[: TESTED_AT_ONCE + 1])
        for account in accounts[:TESTED_AT_ONCE]:  # each may wait seconds for its server
            result = dns_account_test(account=account, actor=admin_actor(request))
            self.message_user(
                request, f"DNS account {account}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )
        if len(accounts) > TESTED_AT_ONCE:
            self.message_user(request, f"Tested the first {TESTED_AT_ONCE} only: select fewer.", messages.WARNING)

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": [*DNS_ACCOUNT_FIELDS, EXTRA]}), *provider_fieldsets()]

    def get_form(self, request, obj=None, **kwargs):
        # The typed credential fields are the form's own (made per provider), not the model's.
        kwargs["fields"] = DNS_ACCOUNT_FIELDS
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="stored credential keys")
    def stored_keys(self, obj):
        return ", ".join(sorted(obj.credentials)) or "—"
