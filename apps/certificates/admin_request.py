"""The certificates' "add" page in the tenant admin: asking an ACME CA for a server certificate. One form,
one call to ``certificate_request`` (the API's): the names are checked there, a job is queued once the
admin's transaction commits, and a refusal ("no DNS account given and no single default: ...") is shown
at the form in the service's words. Who may ask: whoever may add certificates (operators, admins)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.certificates.acme.resolve import ca_account_resolve
from apps.certificates.acme.webroot import CHALLENGE_HELP, MAX_WEBROOT, WEBROOT_HELP
from apps.certificates.domains import MAX_NAMES
from apps.certificates.models import Certificate, Challenge, Job, KeyType
from apps.certificates.pki.admin_forms import LinesField
from apps.certificates.services.acme_options import MAX_FALLBACKS
from apps.certificates.services.requests import certificate_request
from certmate.actors import Actor
from certmate.admin_services import ServiceForm

# Which field a refusal of certificate_request belongs to, by its code (the others: the form's own).
FIELD_OF_CODE = {
    "invalid_domain": "names", "duplicate_domain": "names", "too_many_domains": "names", "exists": "names",
    "private_certificate": "names", "no_ca": "ca_account", "no_dns": "dns_account",
    "dns_plugin_missing": "dns_account", "invalid_key_type": "key_type", "invalid_challenge": "challenge",
    "wildcard_http01": "challenge", "invalid_webroot": "webroot", "too_many": "fallback_ca_accounts",
}  # fmt: skip


class FallbackChainField(LinesField):
    """An issuer fallback chain typed as CA account names, one per line, in order: cleaned to the accounts."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "issuer fallback chain")
        kwargs.setdefault(
            "help_text",
            "CA account names, one per line, tried in order when the order fails at the CA account for a reason "
            "another CA could fix (unreachable, rate limited, server error, policy refusal), never after a DNS "
            "or validation failure; empty: the tenant's default chain (the CA accounts' fallback positions)",
        )
        super().__init__(max_lines=MAX_FALLBACKS + 1, **kwargs)

    def clean(self, value) -> list[CaAccount]:
        names = super().clean(value)
        try:
            return [ca_account_resolve(account=name) for name in names]
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code=exc.code) from None


class CertificateRequestForm(ServiceForm):
    names = LinesField(
        label="domain names",
        required=True,
        max_lines=MAX_NAMES,
        help_text="one per line, the first is the certificate's name, the others its SANs; a wildcard "
        "(*.example.com) needs dns-01",
    )
    ca_account = forms.ModelChoiceField(
        label="CA account", queryset=CaAccount.objects.all(), required=False, empty_label="the default CA account"
    )
    dns_account = forms.ModelChoiceField(
        label="DNS account",
        queryset=DnsAccount.objects.all(),
        required=False,
        empty_label="the default DNS account",
        help_text="the DNS provider account that answers the DNS-01 challenges (http-01 needs none)",
    )
    challenge = forms.ChoiceField(
        choices=Challenge.choices, initial=Challenge.DNS_01, required=False, help_text=CHALLENGE_HELP
    )
    webroot = forms.CharField(required=False, max_length=MAX_WEBROOT, help_text=WEBROOT_HELP)
    fallback_ca_accounts = FallbackChainField()
    key_type = forms.ChoiceField(
        choices=[("", "the tenant's default"), *KeyType.choices], required=False, label="key type"
    )
    acme_profile = forms.CharField(
        label="ACME profile",
        max_length=64,
        required=False,
        help_text="one the CA account's directory offers (see the CA account's page); empty: the CA's default",
    )
    auto_renew = forms.TypedChoiceField(
        label="auto-renew",
        choices=[("", "the tenant's default"), ("true", "yes"), ("false", "no")],
        coerce=lambda value: value == "true",
        empty_value=None,
        required=False,
    )

    class Meta:
        model = Certificate
        fields: list[str] = []

    def apply(self, actor: Actor) -> Certificate:
        names = self.cleaned_data["names"]
        try:
            job = self._request(names, actor)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise
            raise ValidationError({FIELD_OF_CODE.get(getattr(exc, "code", None), "__all__"): exc}) from None
        certificate = job.certificate
        certificate.queued_job = job  # for the page that answers (the admin's message)
        return certificate

    def _request(self, names: list[str], actor: Actor) -> Job:
        data = self.cleaned_data
        return certificate_request(
            identifier=names[0],
            san_domains=names[1:],
            ca_account=data["ca_account"],
            dns_account=data["dns_account"],
            key_type=data["key_type"] or None,
            acme_profile=data["acme_profile"] or None,
            auto_renew=data["auto_renew"],
            fallback_ca_accounts=data["fallback_ca_accounts"] or None,  # none typed: as it is, or the default
            challenge=data["challenge"] or None,  # left out: dns-01, or what the certificate has
            webroot=data["webroot"],
            actor=actor,
        )
