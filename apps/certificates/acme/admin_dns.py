"""A DNS account's form in the tenant admin: one typed field per credential of each provider, from the
provider registry (label, required or optional with its default, help), grouped per provider; the page
shows the chosen provider's group (certificates/dns_account.js; without script, every group shows,
each under its provider's name). Secrets are password inputs, never rendered back: left empty on a
change, a secret keeps its stored value (for the same provider only: a token for one DNS host never
goes to another). Saved by dns_account_create / dns_account_update; the provider's own validation
answers, at the field it names."""

from __future__ import annotations

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError

from apps.accounts.sites import KEEP
from apps.certificates.acme.dns_accounts import dns_account_create, dns_account_update, dns_credentials_kept
from apps.certificates.acme.models import DnsAccount, PropagationCheck
from apps.certificates.acme.propagation import MAX_CHECK_NAMESERVERS
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, PROVIDERS, CredentialField, DnsProvider
from certmate.actors import Actor
from certmate.admin_services import ServiceForm, json_from_form

DNS_ACCOUNT_FIELDS = ["name", "provider", "propagation_seconds", "propagation_check", "check_nameservers", "is_default"]
EXTRA = "credentials_json"


class SecretTextarea(forms.Textarea):
    """A multi-line secret (a service account's JSON key): typed in, never rendered back."""

    def format_value(self, value):
        return None


def credential_field_name(provider: DnsProvider, field: CredentialField) -> str:
    return f"{provider.key}__{field.name}"


def _form_field(field: CredentialField) -> forms.CharField:
    notes = ["Required." if field.required else "Optional."]
    if field.default is not None:
        notes.append(f"Default: {field.default}.")
    if field.help:
        notes.append(field.help[0].upper() + field.help[1:] + ("" if field.help.endswith(".") else "."))
    if field.secret:
        notes.append("Secret: " + KEEP[0].lower() + KEEP[1:])
    if field.secret and field.multiline:
        widget = SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})
    elif field.secret:
        widget = forms.PasswordInput(attrs={"autocomplete": "new-password"})  # never rendered back
    elif field.multiline:
        widget = forms.Textarea(attrs={"rows": 4})
    else:
        widget = forms.TextInput(attrs={"placeholder": field.default} if field.default else {})
    return forms.CharField(
        label=field.label, required=False, max_length=field.max_length, strip=True, widget=widget,
        help_text=" ".join(notes),
    )  # fmt: skip


def provider_fieldsets() -> list[tuple[str, dict]]:
    """One fieldset per provider, for the admin's get_fieldsets."""
    return [
        (
            f"{provider.label} credentials",
            {
                "fields": [credential_field_name(provider, f) for f in provider.fields],
                "classes": ["dns-provider", f"dns-provider-{provider.key}"],
                "description": provider.help,
            },
        )
        for provider in PROVIDERS.values()
    ]


class DnsAccountForm(ServiceForm):
    provider = forms.ChoiceField(choices=sorted((key, p.label) for key, p in PROVIDERS.items()))
    propagation_seconds = forms.IntegerField(
        min_value=0,
        max_value=MAX_PROPAGATION_SECONDS,
        required=False,
        help_text="seconds to wait for DNS changes to spread; empty: the provider's default. With the active "
        "check, the most it waits",
    )
    propagation_check = forms.ChoiceField(
        choices=PropagationCheck.choices,
        required=False,
        help_text="Active: ask the zone's authoritative nameservers until each shows the challenge records, at "
        "most the propagation time. Fixed: wait the propagation time (providers behind split-horizon DNS).",
    )
    check_nameservers = SimpleArrayField(
        forms.CharField(max_length=64),
        required=False,
        max_length=MAX_CHECK_NAMESERVERS,
        label="check nameservers",
        help_text="The nameservers the active check asks instead of the zone's NS records, comma-separated: IP "
        "addresses with an optional port (192.0.2.1, 192.0.2.1:5353, [2001:db8::1]:53). Empty: the zone's own.",
    )
    credentials_json = forms.CharField(
        label="more credential keys (JSON object)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text='For lego\'s variables (provider “Other”), e.g. {"NAMECHEAP_API_USER": "…"}; merged with '
        "the fields of the chosen provider. " + KEEP,
    )

    class Meta:
        model = DnsAccount
        fields = DNS_ACCOUNT_FIELDS

    class Media:
        js = ("certificates/dns_account.js",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.credentials if self.instance.pk else {}
        for provider in PROVIDERS.values():
            for field in provider.fields:
                name = credential_field_name(provider, field)
                self.fields[name] = _form_field(field)
                if not field.secret and provider.key == self.instance.provider and field.name in stored:
                    self.fields[name].initial = stored[field.name]  # not secret: shown to be changed

    def validate_unique(self):
        pass  # the service decides (a taken name is its refusal, in its words)

    def _typed(self, provider: DnsProvider) -> dict[str, str]:
        typed = {}
        for field in provider.fields:
            value = self.cleaned_data.get(credential_field_name(provider, field))
            if value:
                typed[field.name] = value
        return typed

    def clean(self):
        cleaned = super().clean()
        if "provider" not in cleaned:
            return cleaned
        provider = PROVIDERS[cleaned["provider"]]
        try:
            extra = json_from_form(cleaned[EXTRA]) if cleaned.get(EXTRA) else {}
        except ValidationError as exc:
            self._forget_typed_secrets()
            raise ValidationError({EXTRA: exc.messages}) from None
        if not isinstance(extra, dict):
            self._forget_typed_secrets()
            raise ValidationError({EXTRA: 'give a JSON object: {"NAME": "value", …}'})
        typed = self._typed(provider)
        if self.instance.pk and not typed and not extra:
            # Nothing typed: the stored credentials stay (refused for another provider: given again).
            try:
                credentials = dns_credentials_kept(account=self.instance, provider=provider.key)
            except ValidationError as exc:
                raise ValidationError({EXTRA: exc.message_dict["credentials"]}) from None
            self.credentials = None
        else:
            credentials = {**extra, **typed}
            if self.instance.pk and self.instance.provider == provider.key:
                self._keep_stored_secrets(provider, credentials, extra_given=bool(extra))
            self.credentials = credentials
        try:
            provider.validate(credentials)
        except ValidationError as exc:
            self._forget_typed_secrets()
            self._errors_at_fields(provider, exc)
        return cleaned

    def _keep_stored_secrets(self, provider: DnsProvider, credentials: dict, *, extra_given: bool) -> None:
        """A secret left empty keeps its stored value, as do the free-form (lego) keys when none are given."""
        known = {f.name: f for f in provider.fields}
        for name, value in self.instance.credentials.items():
            spec = known.get(name)
            keep = spec.secret if spec is not None else not extra_given
            if keep and name not in credentials:
                credentials[name] = value

    def _errors_at_fields(self, provider: DnsProvider, exc: ValidationError) -> None:
        """The provider says "rfc2136: tsig_key is required": put each message at the field it names."""
        for message in exc.messages:
            field = next(
                (f for f in provider.fields if message.startswith(f"{provider.key}: {f.name} ")),
                None,
            )
            self.add_error(credential_field_name(provider, field) if field else EXTRA, message)

    def apply(self, actor: Actor) -> DnsAccount:
        values = {name: self.cleaned_data[name] for name in DNS_ACCOUNT_FIELDS}
        if not values["propagation_check"]:  # a form of before the field: the stored one (or the default) stays
            del values["propagation_check"]
        if not self.instance.pk:
            return dns_account_create(actor=actor, credentials=self.credentials, **values)
        if self.credentials is not None:
            values["credentials"] = self.credentials  # they replace the stored ones whole
        return dns_account_update(account=self.instance, actor=actor, **values)

    def _forget_typed_secrets(self) -> None:
        # The form comes back with its errors: the secrets typed into it must not come back with it.
        self.data = self.data.copy()
        self.data[EXTRA] = ""
