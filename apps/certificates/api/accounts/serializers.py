"""Shapes of the CA account, DNS account and tenant settings API. Secrets (EAB HMAC keys, DNS credentials)
are write-only: never returned."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.validators import validate_contact_email, validate_eab_hmac_key, validate_eab_kid
from apps.certificates.acme.accounts import ca_account_create, ca_account_update
from apps.certificates.acme.dns_accounts import dns_account_create, dns_account_update
from apps.certificates.acme.models import PropagationCheck
from apps.certificates.acme.propagation import MAX_CHECK_NAMESERVERS
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, PROVIDERS
from apps.certificates.acme.resolve import ca_account_resolve, dns_account_resolve
from apps.certificates.models import CA_PRESETS, CaAccount, DnsAccount, KeyType
from apps.certificates.services.acme_options import MAX_FALLBACK_POSITION, MAX_FALLBACKS
from certmate.actors import Actor, request_actor
from certmate.api.fields import IntegerField


def _actor(serializer: serializers.Serializer) -> Actor:
    """Who writes through this serializer: the API request's actor (the view hands its request over)."""
    return request_actor(serializer.context["request"])


class ContactEmailField(serializers.EmailField):
    """An e-mail address a tenant types: the one check of apps.accounts.validators (Django's and certbot's)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [validate_contact_email]


# -- CA accounts --------------------------------------------------------------------------------------


class CaAccountSerializer(serializers.Serializer):
    id = IntegerField(read_only=True, help_text="The account's id")
    name = serializers.CharField(max_length=100, help_text="A unique name")
    directory_url = serializers.CharField(
        max_length=500,
        help_text=f"The CA's ACME directory: an https:// URL, or a preset ({', '.join(CA_PRESETS)}) on input",
    )
    email = ContactEmailField(help_text="Contact e-mail registered with the CA")
    eab_kid = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        validators=[validate_eab_kid],
        help_text="External account binding key id, if the CA needs",
    )
    eab_hmac_key = serializers.CharField(
        write_only=True,
        validators=[validate_eab_hmac_key],
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="External account binding HMAC key: write-only, never returned; omit to keep the stored one",
    )
    trust_bundle = serializers.CharField(
        required=False, allow_blank=True, help_text="PEM CA certificates to trust for a private ACME server's HTTPS"
    )
    is_default = serializers.BooleanField(required=False, help_text="Used when a request names no CA account")
    fallback_position = IntegerField(
        min_value=1,
        max_value=MAX_FALLBACK_POSITION,
        allow_null=True,
        required=False,
        help_text="Its place in the tenant's default issuer fallback chain (1 first; null: not in it): tried, in "
        "order, after a certificate's own CA account failed for a reason another CA could fix (unreachable, rate "
        f"limited, server error, policy refusal), for certificates without a fallback chain of their own. At most "
        f"{MAX_FALLBACKS} accounts",
    )
    has_eab = serializers.BooleanField(read_only=True, help_text="Whether an EAB key id and HMAC key are stored")
    registered = serializers.SerializerMethodField(
        help_text="Whether the ACME account exists at the CA (then directory, e-mail and EAB are fixed)"
    )
    registered_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When it was registered")
    profiles = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The ACME profiles its directory advertises (name: description): what a certificate's "
        "acme_profile may name. Empty until the directory is read (first order, or POST .../refresh)",
    )
    renewal_info_url = serializers.CharField(
        read_only=True, help_text="The CA's ARI (RFC 9773) renewalInfo URL; empty: no ARI, the threshold rule applies"
    )
    directory_read_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When its directory was last read; null: never"
    )

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_registered(self, account: CaAccount) -> bool:
        return account.registered_at is not None

    @staticmethod
    def _service_args(data: dict) -> dict:
        args = dict(data)
        if "directory_url" in args:
            args["directory"] = args.pop("directory_url")
        return args

    def create(self, validated_data) -> CaAccount:
        return ca_account_create(**self._service_args(validated_data), actor=_actor(self))

    def update(self, instance, validated_data) -> CaAccount:
        return ca_account_update(account=instance, **self._service_args(validated_data), actor=_actor(self))


# -- DNS accounts and providers -----------------------------------------------------------------------


class DnsAccountSerializer(serializers.Serializer):
    id = IntegerField(read_only=True, help_text="The account's id")
    name = serializers.CharField(max_length=100, help_text="A name, unique per provider")
    provider = serializers.ChoiceField(sorted(PROVIDERS), help_text="The DNS provider (see /api/dns-providers)")
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text="The provider's credential fields (see /api/dns-providers): write-only, never returned. "
        "Required to create; on update, given credentials replace the stored ones whole",
    )
    propagation_seconds = IntegerField(
        min_value=0,
        max_value=MAX_PROPAGATION_SECONDS,
        allow_null=True,
        required=False,
        help_text="Seconds to wait for DNS changes to spread; null: the provider's default. With the active "
        "check, the most it waits",
    )
    propagation_check = serializers.ChoiceField(
        PropagationCheck.choices,
        required=False,
        help_text="active: ask the zone's authoritative nameservers until each shows the challenge records; "
        "fixed: wait the propagation time (providers behind split-horizon DNS)",
    )
    check_nameservers = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=MAX_CHECK_NAMESERVERS,
        required=False,
        help_text="The nameservers the active check asks instead of the zone's NS records: IP addresses, "
        'each with an optional port ("192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53")',
    )
    is_default = serializers.BooleanField(
        required=False, help_text="The provider's default account (a provider's first account is its default)"
    )
    credential_fields_set = serializers.SerializerMethodField(help_text="Names of the stored credential fields")
    created_at = serializers.DateTimeField(read_only=True, help_text="When the account was created")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_credential_fields_set(self, account: DnsAccount) -> list[str]:
        return sorted(account.credentials)

    def validate(self, attrs):
        if self.instance is None and "credentials" not in attrs:
            raise serializers.ValidationError({"credentials": "required to create a DNS account"}, code="required")
        return attrs

    def create(self, validated_data) -> DnsAccount:
        return dns_account_create(**validated_data, actor=_actor(self))

    def update(self, instance, validated_data) -> DnsAccount:
        return dns_account_update(account=instance, **validated_data, actor=_actor(self))


class CredentialFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key to give in credentials")
    label = serializers.CharField(help_text="What it is")
    required = serializers.BooleanField(help_text="Whether it must be given (see alternatives too)")
    secret = serializers.BooleanField(help_text="Whether it is a secret")
    help = serializers.CharField(help_text="Format or where to find it")
    default = serializers.CharField(allow_null=True, help_text="Stored when none is given")


class DnsProviderSerializer(serializers.Serializer):
    name = serializers.CharField(source="key", help_text="The provider's key, for DNS accounts")
    label = serializers.CharField(help_text="The provider's name")
    package = serializers.CharField(help_text="The certbot plugin's Python package")
    plugin = serializers.CharField(help_text="The certbot authenticator")
    plugin_installed = serializers.BooleanField(help_text="Whether the plugin is installed here")
    default_propagation_seconds = IntegerField(
        allow_null=True, help_text="The plugin's own wait; null: the plugin waits by itself"
    )
    credential_fields = CredentialFieldSerializer(source="fields", many=True, help_text="The credential fields")
    alternatives = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Groups of optional fields of which exactly one must be complete",
    )
    accepts_extra_keys = serializers.SerializerMethodField(
        help_text="Whether UPPER_CASE provider variables may be given besides the fields"
    )
    help = serializers.CharField(help_text="Notes on the provider")

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_accepts_extra_keys(self, provider) -> bool:
        return bool(provider.extra_keys)


class DnsAccountTestSerializer(serializers.Serializer):
    zone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=253,
        help_text="The zone to ask the SOA of; default: the newest certificate's name on this account",
    )


class DnsTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Whether the provider answered as the credentials say")
    message = serializers.CharField(help_text="What happened, in one line (never a secret)")


# -- Tenant settings ----------------------------------------------------------------------------------


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class AccountReferenceField(serializers.RelatedField):
    """An account by id, or by name (a CA account also by preset, a DNS account also as "provider:name"),
    resolved as everywhere else; answered with its id."""

    default_error_messages = {"invalid": "give an account id or name"}

    def to_internal_value(self, data):
        if not (isinstance(data, int) and not isinstance(data, bool)) and not (
            isinstance(data, str) and data.strip() and "\x00" not in data
        ):
            self.fail("invalid")
        value = data.strip() if isinstance(data, str) else data
        resolve = ca_account_resolve if self.get_queryset().model is CaAccount else dns_account_resolve
        try:
            return resolve(account=value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code=exc.code) from None

    def to_representation(self, value):
        return value.pk


class TenantSettingsSerializer(serializers.Serializer):
    contact_email = ContactEmailField(allow_blank=True, required=False, help_text="Where notices about it go")
    default_ca_account = AccountReferenceField(
        queryset=CaAccount.objects.all(),
        allow_null=True,
        required=False,
        help_text="The CA account used when a request names none: its id (or name on input)",
    )
    default_dns_account = AccountReferenceField(
        queryset=DnsAccount.objects.all(),
        allow_null=True,
        required=False,
        help_text="The DNS account used when a request names none: its id (or name, provider:name on input)",
    )
    default_key_type = serializers.ChoiceField(
        KeyType.choices, required=False, help_text="Key type of new certificates"
    )
    auto_renew_default = serializers.BooleanField(required=False, help_text="Whether new certificates renew by default")
    renewal_threshold_days = IntegerField(
        min_value=1, max_value=365, required=False, help_text="Renew this many days before expiry"
    )
    expiry_warning_days = serializers.ListField(
        child=IntegerField(min_value=1, max_value=365),
        max_length=10,
        required=False,
        help_text="Days before expiry that notification channels are warned, each once per version, e.g. "
        "[30, 14, 7, 1]: 1 to 365, at most 10, distinct ([]: no warnings)",
    )
    public_base_url = serializers.CharField(
        max_length=200, allow_blank=True, required=False,
        help_text="Where relying parties fetch the private CAs' CRLs, OCSP and CA certificates, e.g. "
        "https://pki.example.com behind a proxy (empty: https://<the tenant's primary domain>); certificates "
        "signed from then on carry it",
    )  # fmt: skip
