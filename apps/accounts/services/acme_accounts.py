"""CA accounts, DNS accounts and tenant settings of the current tenant."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import CA_PRESETS, CaAccount, DnsAccount, TenantSettings
from apps.accounts.services.users import user_email_clean
from apps.certificates.acme import runner
from apps.certificates.acme.providers import get_provider


def ca_directory_url(preset_or_url: str) -> str:
    """A preset's directory URL, or the custom https URL given."""
    if preset_or_url in CA_PRESETS:
        return CA_PRESETS[preset_or_url][1]
    if not preset_or_url.startswith("https://"):
        presets = ", ".join(CA_PRESETS)
        raise ValidationError(
            f"CA {preset_or_url!r} is neither a preset ({presets}) nor an https:// ACME directory URL",
            code="invalid_directory",
        )
    return preset_or_url


@transaction.atomic
def ca_account_create(
    *,
    name: str,
    directory: str,
    email: str,
    eab_kid: str = "",
    eab_hmac_key: str = "",
    trust_bundle: str = "",
    is_default: bool = False,
) -> CaAccount:
    if bool(eab_kid) != bool(eab_hmac_key):
        raise ValidationError("give the EAB key id and HMAC key together", code="eab_incomplete")
    if CaAccount.objects.filter(name=name).exists():
        raise ValidationError(f"a CA account named {name!r} already exists", code="name_taken")
    if is_default:
        CaAccount.objects.filter(is_default=True).update(is_default=False)
    account = CaAccount(
        name=name,
        directory_url=ca_directory_url(directory),
        email=user_email_clean(email),
        eab_kid=eab_kid.strip(),
        eab_hmac_key=eab_hmac_key.strip(),
        trust_bundle=trust_bundle,
        is_default=is_default,
    )
    account.full_clean()
    account.save()
    return account


def ca_account_ensure_registered(*, ca_account_id: int, timeout_seconds: int = 300) -> CaAccount:
    """The ACME account, registered at the CA on first use. Concurrent first uses wait on a row lock,
    so every worker ends up with the one account."""
    with transaction.atomic():
        account = CaAccount.objects.select_for_update().get(pk=ca_account_id)
        if account.acme_account:
            return account
        files = runner.register(acme_account_of(account), timeout_seconds=timeout_seconds)
        account.acme_account = files
        account.acme_account_uri = _registration_uri(files)
        account.registered_at = timezone.now()
        account.save(update_fields=["acme_account", "acme_account_uri", "registered_at"])
        return account


def acme_account_of(account: CaAccount) -> runner.AcmeAccount:
    return runner.AcmeAccount(
        directory_url=account.directory_url,
        email=account.email,
        eab_kid=account.eab_kid,
        eab_hmac_key=account.eab_hmac_key,
        trust_bundle=account.trust_bundle,
        files=account.acme_account or {},
    )


def _registration_uri(files: dict[str, str]) -> str:
    for path, content in files.items():
        if path.endswith("/regr.json"):
            return json.loads(content).get("uri", "")
    return ""


@transaction.atomic
def dns_account_create(
    *, name: str, provider: str, credentials: dict[str, str], propagation_seconds: int | None = None, is_default=False
) -> DnsAccount:
    definition = get_provider(provider)
    cleaned = definition.validate(credentials)
    if propagation_seconds is not None and not 0 <= propagation_seconds <= 3600:
        raise ValidationError(
            f"propagation_seconds={propagation_seconds} is out of range: use 0 to 3600 seconds",
            code="invalid_propagation",
        )
    if DnsAccount.objects.filter(provider=provider, name=name).exists():
        raise ValidationError(f"a {provider} DNS account named {name!r} already exists", code="name_taken")
    if is_default or not DnsAccount.objects.filter(provider=provider).exists():
        # The first account of a provider is its default.
        DnsAccount.objects.filter(provider=provider, is_default=True).update(is_default=False)
        is_default = True
    return DnsAccount.objects.create(
        name=name,
        provider=provider,
        credentials=cleaned,
        propagation_seconds=propagation_seconds,
        is_default=is_default,
    )


@transaction.atomic
def tenant_settings_update(**changes) -> TenantSettings:
    settings = TenantSettings.load()
    threshold_before = settings.renewal_threshold_days
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    if settings.renewal_threshold_days != threshold_before:
        from apps.certificates.services.renewals import certificates_schedule_refresh

        certificates_schedule_refresh()
    return settings
