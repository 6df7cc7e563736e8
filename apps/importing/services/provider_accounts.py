"""CertMate's DNS and CA provider accounts, through the certificates app's account services (validated,
secrets encrypted, audited), and the tenant defaults CertMate kept beside them."""

from __future__ import annotations

from dataclasses import asdict

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.certificates.acme.providers import PROVIDERS
from apps.certificates.models import KeyType, TenantSettings
from apps.certificates.services.settings import tenant_settings_update
from apps.importing.certmate_settings import CaSpec, DnsSpec, ca_specs, dns_specs, has_masked
from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome

MASKED = (
    "its secrets are masked in this backup (a share-safe one): import the data folder, or a backup made with secrets"
)


def _account(run: ImportRun, spec: DnsSpec | CaSpec, kind: str, found: dict, refusal, create) -> tuple[Outcome, str]:
    """One CertMate account: kept when an earlier run imported it, else ``refusal(spec)`` (why not: an
    outcome and reason) or ``create(run, spec)`` (the account and what to report)."""
    key = f"{kind}:{spec.provider}/{spec.account_id}"
    digest = content_hash(asdict(spec))
    model = DnsAccount if kind == "dns_account" else CaAccount
    account = run.target_of(key, model)
    if account is not None:
        found[(spec.provider, spec.account_id)] = account
        label = f"{model._meta.verbose_name} {account}"
        if run.same_as_before(key, digest):
            return Outcome.UNCHANGED, f"{label} (imported before)"
        return Outcome.ATTENTION, f"changed in CertMate since it was imported as {label}: certmate's copy is kept"
    refused = refusal(spec)
    if refused is not None:
        return refused
    account, said = create(run, spec)
    found[(spec.provider, spec.account_id)] = account
    run.remember(key, kind, digest, account)
    return Outcome.IMPORTED, said


def dns_accounts_import(run: ImportRun) -> None:
    for spec in dns_specs(run.settings):
        run.each(spec.item, lambda s=spec: _account(run, s, "dns_account", run.dns_accounts, _dns_refusal, _dns_create))


def _dns_refusal(spec: DnsSpec) -> tuple[Outcome, str] | None:
    if not spec.credentials:
        return Outcome.SKIPPED, "no credentials: the account was never configured in CertMate"
    if has_masked(spec.credentials):
        return Outcome.ATTENTION, MASKED
    if spec.provider not in PROVIDERS:
        return Outcome.ATTENTION, (
            f"unknown DNS provider {spec.provider[:50]!r}: add the account by hand (the 'multi' provider reaches "
            "100+ providers through lego), then point its certificates at it"
        )
    if not any(field.secret and spec.credentials.get(field.name) for field in PROVIDERS[spec.provider].fields):
        return Outcome.SKIPPED, "no secret set: the account was never configured in CertMate"
    return None


def _dns_create(run: ImportRun, spec: DnsSpec) -> tuple[DnsAccount, str]:
    account = dns_account_create(
        name=spec.account_id[:100],
        provider=spec.provider,
        credentials=spec.credentials,
        propagation_seconds=spec.propagation_seconds,
        is_default=spec.is_default,
        actor=run.actor,
    )
    return account, f"DNS account {account} (credentials encrypted)"


def ca_accounts_import(run: ImportRun) -> None:
    for spec in ca_specs(run.settings):
        run.each(spec.item, lambda s=spec: _account(run, s, "ca_account", run.ca_accounts, _ca_refusal, _ca_create))


def _ca_refusal(spec: CaSpec) -> tuple[Outcome, str] | None:
    if not spec.directory:
        return Outcome.SKIPPED, f"CA provider {spec.provider[:50]!r} has no ACME directory URL (acme_url) in CertMate"
    if not spec.email and not spec.eab_kid:
        return Outcome.SKIPPED, "not configured in CertMate (no contact e-mail)"
    if has_masked([spec.eab_hmac_key]):
        return Outcome.ATTENTION, MASKED
    return None


def _ca_create(run: ImportRun, spec: CaSpec) -> tuple[CaAccount, str]:
    name = f"{spec.provider}-{spec.account_id}"[:100]
    account = ca_account_create(
        name=name,
        directory=spec.directory,
        email=spec.email,
        eab_kid=spec.eab_kid,
        eab_hmac_key=spec.eab_hmac_key,
        trust_bundle=spec.trust_bundle,
        is_default=spec.is_default,
        actor=run.actor,
    )
    eab = " with its EAB key (encrypted)" if account.has_eab else ""
    return account, f"CA account {name!r}{eab}"


_KEY_TYPES = {("rsa", 2048): KeyType.RSA2048, ("rsa", 3072): KeyType.RSA3072, ("rsa", 4096): KeyType.RSA4096}
_CURVES = {"secp256r1": KeyType.EC256, "secp384r1": KeyType.EC384}


def _default_key_type(settings: dict) -> str | None:
    # Looked up only as text or a number: a list or an object from the file is no key (and unhashable).
    curve, size = settings.get("default_elliptic_curve") or "secp256r1", settings.get("default_key_size") or 2048
    if settings.get("default_key_type") == "ecdsa" and isinstance(curve, str):
        return _CURVES.get(curve)
    if settings.get("default_key_type") == "rsa" and isinstance(size, int):
        return _KEY_TYPES.get(("rsa", size))
    return None


def tenant_defaults_import(run: ImportRun) -> None:
    """CertMate's e-mail, auto-renew default, renewal threshold, key type and default accounts."""
    settings = run.settings
    wanted = {}
    if isinstance(settings.get("email"), str) and settings["email"].strip():
        wanted["contact_email"] = settings["email"].strip().lower()
    if isinstance(settings.get("auto_renew"), bool):
        wanted["auto_renew_default"] = settings["auto_renew"]
    threshold = settings.get("renewal_threshold_days")
    if isinstance(threshold, int) and not isinstance(threshold, bool):
        wanted["renewal_threshold_days"] = threshold
    if key_type := _default_key_type(settings):
        wanted["default_key_type"] = key_type
    items = {
        "contact_email": "email",
        "auto_renew_default": "auto_renew",
        "renewal_threshold_days": "renewal_threshold_days",
        "default_key_type": "default_key_type",
    }
    current = TenantSettings.load()
    for field, setting in items.items():
        item = f"settings.json: {setting}"
        if field not in wanted:
            if setting in settings:
                run.report.add(
                    item, Outcome.ATTENTION, f"{str(settings[setting])[:60]!r} is not a value certmate takes"
                )
            continue
        same = getattr(current, field) == wanted[field]
        outcome = Outcome.UNCHANGED if same else Outcome.IMPORTED
        run.each(item, lambda f=field, o=outcome: _set(run, f, wanted[f], o))


def _set(run: ImportRun, field: str, value, outcome: Outcome) -> tuple[Outcome, str]:
    if outcome == Outcome.IMPORTED:
        tenant_settings_update(actor=run.actor, **{field: value})
    return outcome, f"the tenant's {field.replace('_', ' ')}"


def default_accounts_import(run: ImportRun) -> None:
    """Make CertMate's default CA and DNS accounts the tenant's defaults (when the tenant has none)."""
    current = TenantSettings.load()
    changes = {}
    default_ca = next((a for a in run.ca_accounts.values() if a.is_default), None)
    if default_ca is not None and current.default_ca_account_id is None:
        changes["default_ca_account"] = default_ca
    provider = run.settings.get("dns_provider") or "cloudflare"
    default_dns = next((a for (p, _), a in run.dns_accounts.items() if p == provider and a.is_default), None)
    if default_dns is not None and current.default_dns_account_id is None:
        changes["default_dns_account"] = default_dns
    if changes:
        tenant_settings_update(actor=run.actor, **changes)
