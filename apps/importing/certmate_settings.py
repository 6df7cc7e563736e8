"""CertMate 2.x's settings.json in every shape it has written, read into plain specs.

Shapes handled: a backup's wrapper (``{"metadata": …, "settings": …}``); DNS credentials as the legacy
single account per provider (``dns_providers.<p>.<field>``, and the older top-level ``cloudflare_token``)
or as named accounts (``dns_providers.<p>.accounts.<id>``) with ``default_accounts``; CA providers the
same two ways, EAB fields under either spelling; ``domains`` as plain names or as objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MASK = "********"  # what a share-safe CertMate backup writes instead of a secret
# Keys of an account entry that describe it rather than authenticate.
_DESCRIPTIVE = frozenset({"name", "description", "configured", "created_at", "updated_at"})
# The ACME directory CertMate used for each of its CA providers when an account gave no acme_url.
CERTMATE_DIRECTORIES = {
    "letsencrypt": "letsencrypt",
    "letsencrypt_staging": "letsencrypt_staging",
    "zerossl": "zerossl",
    "google": "google",
    "digicert": "https://one.digicert.com/mpki/api/v1/acme/v2/directory",
    "sslcom": "https://acme.ssl.com/sslcom-dv-rsa",
    "actalis": "actalis",
}
# Top-level settings not imported, and why (what the report says about each).
NOT_IMPORTED = {
    "certmate_version": "CertMate's own version stamp",
    "setup_completed": "CertMate's first-run state",
    "wizard_dismissed": "CertMate's first-run state",
    "default_key_size": "read with default_key_type",
    "default_elliptic_curve": "read with default_key_type",
    "pfx_password": "certmate builds PKCS#12 files on download, with a password given then",
    "dns_provider": "read with the DNS accounts: the default provider of plain domain names",
    "default_accounts": "read with the DNS accounts: marks each provider's default account",
    "default_ca_accounts": "read with the CA accounts: marks the default account",
    "default_ca": "read with the CA accounts: the tenant's default CA account",
    "dns_propagation_seconds": "read with the DNS accounts: each account's propagation wait",
    "api_bearer_token_hash": "read with the API tokens",
    "api_bearer_token": "read with the API tokens",
    "cloudflare_token": "read with the DNS accounts (the oldest Cloudflare setting)",
    "backup_storage": "certmate's backups are the platform's (manage.py tenant export)",
    "rate_limits": "certmate's rate limits are the platform's",
    "cache_ttl": "CertMate's cache setting",
    "local_auth_enabled": "certmate signs users in with passwords and per-tenant single sign-on",
}


@dataclass(frozen=True)
class DnsSpec:
    item: str
    provider: str  # as CertMate named it
    account_id: str
    credentials: dict[str, str]
    is_default: bool
    propagation_seconds: int | None


@dataclass(frozen=True)
class CaSpec:
    item: str
    provider: str
    account_id: str
    email: str
    directory: str  # a certmate preset key or a URL
    eab_kid: str
    eab_hmac_key: str
    trust_bundle: str
    is_default: bool


@dataclass(frozen=True)
class DomainSpec:
    item: str
    domain: str
    san_domains: list[str]
    dns_provider: str
    dns_account_id: str
    ca_provider: str
    ca_account_id: str
    auto_renew: bool | None
    renew_before_days: int | None
    propagation_seconds: int | None
    extra: dict[str, Any] = field(default_factory=dict)


def settings_parse(raw: bytes) -> dict[str, Any]:
    """The settings object (unwrapped from a backup's wrapper); ValueError when it is not one."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "metadata" in data:
        data = data["settings"]
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    return data


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _credentials(entry: dict[str, Any]) -> dict[str, str]:
    return {key: _text(value) for key, value in entry.items() if key not in _DESCRIPTIVE and _text(value)}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _accounts(config: dict[str, Any], where: str) -> dict[str, tuple[str, Any]]:
    """A provider's accounts by id, each with its place in settings.json: the ``accounts`` map, accounts
    written straight under the provider (as CertMate still reads them), or the legacy single account
    (its fields under the provider) as 'default'."""
    if isinstance(config.get("accounts"), dict):
        return {str(k): (f"{where}.accounts.{k}", v) for k, v in config["accounts"].items()}
    nested = {str(k): (f"{where}.{k}", v) for k, v in config.items() if isinstance(v, dict)}
    if nested:
        return nested
    legacy = {k: v for k, v in config.items() if not isinstance(v, dict | list)}
    return {"default": (where, legacy)} if legacy else {}


def dns_specs(settings: dict[str, Any]) -> list[DnsSpec]:
    providers = settings.get("dns_providers") if isinstance(settings.get("dns_providers"), dict) else {}
    providers = dict(providers)
    token = _text(settings.get("cloudflare_token"))
    if token and not providers.get("cloudflare"):
        providers["cloudflare"] = {"api_token": token}
    defaults = settings.get("default_accounts") if isinstance(settings.get("default_accounts"), dict) else {}
    waits = settings.get("dns_propagation_seconds") if isinstance(settings.get("dns_propagation_seconds"), dict) else {}
    specs = []
    for provider, config in providers.items():
        if not isinstance(config, dict):
            continue
        for account_id, (item, entry) in _accounts(config, f"settings.json: dns_providers.{provider}").items():
            if not isinstance(entry, dict):
                continue
            specs.append(
                DnsSpec(
                    item=item,
                    provider=str(provider),
                    account_id=account_id,
                    credentials=_credentials(entry),
                    is_default=defaults.get(provider, "default") == account_id,
                    propagation_seconds=_int(waits.get(provider)),
                )
            )  # fmt: skip
    return specs


def ca_specs(settings: dict[str, Any]) -> list[CaSpec]:
    providers = settings.get("ca_providers") if isinstance(settings.get("ca_providers"), dict) else {}
    defaults = settings.get("default_ca_accounts") if isinstance(settings.get("default_ca_accounts"), dict) else {}
    default_ca = _text(settings.get("default_ca")) or "letsencrypt"
    specs = []
    for provider, config in providers.items():
        if not isinstance(config, dict):
            continue
        for account_id, (item, entry) in _accounts(config, f"settings.json: ca_providers.{provider}").items():
            if not isinstance(entry, dict):
                continue
            directory = _text(entry.get("acme_url")) or CERTMATE_DIRECTORIES.get(provider, "")
            specs.append(
                CaSpec(
                    item=item,
                    provider=str(provider),
                    account_id=account_id,
                    email=_text(entry.get("email")) or _text(settings.get("email")),
                    directory=directory,
                    eab_kid=_text(entry.get("eab_kid") or entry.get("eab_key_id")),
                    eab_hmac_key=_text(entry.get("eab_hmac") or entry.get("eab_hmac_key")),
                    trust_bundle=_text(entry.get("ca_cert")),
                    is_default=provider == default_ca and defaults.get(provider, account_id) == account_id,
                )
            )
    return specs


def _names(value: Any) -> list[str]:
    return [_text(name).lower() for name in value if _text(name)] if isinstance(value, list) else []


def _dns_account_id(entry: dict[str, Any], default: str) -> str:
    # CertMate 2.2x names a domain's DNS account dns_account_id (its account_id stays "default"); older
    # versions named it account_id.
    if "dns_account_id" in entry:
        return _text(entry["dns_account_id"]) or default or "default"
    return _text(entry.get("account_id")) or default or "default"


def domain_specs(settings: dict[str, Any]) -> list[DomainSpec]:
    """The ``domains`` list; plain names take the default DNS provider and its default account."""
    default_provider = _text(settings.get("dns_provider")) or "cloudflare"
    defaults = settings.get("default_accounts") if isinstance(settings.get("default_accounts"), dict) else {}
    domains = settings.get("domains") if isinstance(settings.get("domains"), list) else []
    specs = []
    for index, entry in enumerate(domains):
        if isinstance(entry, str):
            entry = {"domain": entry}
        if not isinstance(entry, dict) or not _text(entry.get("domain")):
            continue
        provider = _text(entry.get("dns_provider")) or default_provider
        threshold = _int(entry.get("renewal_threshold_days") or entry.get("renewal_threshold"))
        specs.append(
            DomainSpec(
                item=f"settings.json: domains[{index}] ({_text(entry['domain'])[:253]})",
                domain=_text(entry["domain"]).lower(),
                san_domains=_names(entry.get("san_domains")),
                dns_provider=provider,
                dns_account_id=_dns_account_id(entry, _text(defaults.get(provider))),
                ca_provider=_text(entry.get("ca_provider")),
                ca_account_id=_text(entry.get("ca_account_id")),
                auto_renew=entry["auto_renew"] if isinstance(entry.get("auto_renew"), bool) else None,
                renew_before_days=threshold,
                propagation_seconds=_int(entry.get("dns_propagation_seconds")),
                extra={k: v for k, v in entry.items() if k in ("domain_alias", "alias_dns_provider", "challenge_type")},
            )
        )
    return specs


def certmate_time(value: Any) -> datetime | None:
    """A time CertMate wrote (ISO 8601, naive ones in UTC), or None when there is none or it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def has_masked(value: Any) -> bool:
    """True when a share-safe backup replaced a secret in ``value`` with its mask."""
    if isinstance(value, dict):
        return any(has_masked(v) for v in value.values())
    if isinstance(value, list):
        return any(has_masked(v) for v in value)
    return value == MASK
