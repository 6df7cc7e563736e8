"""Naming the accounts a certificate is issued with, as the API, the settings and the commands do: by
name, id, CA preset or "provider:name"."""

from __future__ import annotations

from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount
from apps.certificates.services.requests import CertificateRequestError


def _by_name_or_id(rows, value: str | int) -> list:
    """The rows named ``value``, else (for a number) the row with that id."""
    if isinstance(value, str):
        found = list(rows.filter(name=value)[:2])
        if found:
            return found
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return list(rows.filter(pk=int(value)))
    return []


def ca_account_resolve(*, account: str | int | None) -> CaAccount | None:
    """A CA account named by name, id, or CA preset (letsencrypt, zerossl, ...: the tenant's account
    at that directory; the default one when there are several). None when nothing is named."""
    if account in (None, ""):
        return None
    found = _by_name_or_id(CaAccount.objects.all(), account)
    if found:
        return found[0]
    if account in CA_PRESETS:
        at_preset = list(CaAccount.objects.filter(directory_url=CA_PRESETS[account][1]).order_by("-is_default", "name"))
        if len(at_preset) == 1 or (at_preset and at_preset[0].is_default):
            return at_preset[0]
        if at_preset:
            names = ", ".join(other.name for other in at_preset)
            raise CertificateRequestError(
                f"several CA accounts use {account} ({names}) and none is the default: name one", code="ambiguous_ca"
            )
        raise CertificateRequestError(
            f"no CA account uses the {account} directory: create one first", code="unknown_ca_account"
        )
    presets = ", ".join(CA_PRESETS)
    raise CertificateRequestError(
        f"no CA account is named {account!r} (a name, an id, or one of the presets {presets})",
        code="unknown_ca_account",
    )


def dns_account_resolve(*, account: str | int | None = None, provider: str | None = None) -> DnsAccount | None:
    """A DNS account by name, id or "provider:name" (within ``provider`` when given), or ``provider``'s
    default account (its only one when it has no default). None when neither is given. The API, the
    settings and the commands name accounts through this and ``ca_account_resolve`` alike."""
    rows = DnsAccount.objects.all()
    if provider:
        rows = rows.filter(provider=provider)
    if account not in (None, ""):
        found = _by_name_or_id(rows, account)
        if not found and isinstance(account, str) and ":" in account and not provider:
            named_provider, _, name = account.partition(":")  # provider:name, as the commands write it
            found = list(rows.filter(provider=named_provider, name=name)[:2])
        if len(found) == 1:
            return found[0]
        where = f" at {provider}" if provider else ""
        if found:
            raise CertificateRequestError(
                f"several DNS accounts{where} are named {account!r}: give dns_provider too", code="ambiguous_dns"
            )
        raise CertificateRequestError(f"no DNS account{where} is named {account!r}", code="unknown_dns_account")
    if not provider:
        return None
    candidates = list(rows.order_by("-is_default", "name")[:2])
    if candidates and (candidates[0].is_default or len(candidates) == 1):
        return candidates[0]
    if candidates:
        raise CertificateRequestError(
            f"{provider} has several DNS accounts and none is its default: name one (account_id)", code="ambiguous_dns"
        )
    raise CertificateRequestError(f"no DNS account for provider {provider!r}: create one first", code="no_dns")
