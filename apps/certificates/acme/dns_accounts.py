"""A tenant's DNS provider accounts: the credentials its DNS-01 orders write records with, and how
long (at most) the records take to show (see propagation.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.certificates.acme.auditing import account_audit, account_delete_unless_used, account_snapshot
from apps.certificates.acme.models import DnsAccount, PropagationCheck
from apps.certificates.acme.propagation import check_nameservers_clean
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, get_provider
from certmate.actors import Actor


def dns_credentials_kept(*, account: DnsAccount, provider: str) -> dict[str, str]:
    """The stored credentials, for an account that keeps its provider; another provider needs them
    given again (ValidationError on credentials): a token for one DNS host never goes to another."""
    if account.credentials and provider != account.provider:
        message = f"a new provider ({provider}) needs the credentials given again"
        raise ValidationError({"credentials": ValidationError(message, code="credentials_required")})
    return account.credentials


def _dns_credentials_clean(provider: str, credentials: dict[str, str]) -> dict[str, str]:
    definition = get_provider(provider)
    try:
        return definition.validate(credentials)
    except ValidationError as exc:
        raise ValidationError({"credentials": exc.error_list}) from None


def _propagation_clean(propagation_seconds: int | None) -> int | None:
    if propagation_seconds is not None and not 0 <= propagation_seconds <= MAX_PROPAGATION_SECONDS:
        raise ValidationError(
            f"propagation_seconds={propagation_seconds} is out of range: use 0 to {MAX_PROPAGATION_SECONDS} seconds",
            code="invalid_propagation",
        )
    return propagation_seconds


def _propagation_check_clean(check: str) -> str:
    if check not in PropagationCheck.values:
        raise ValidationError(
            {"propagation_check": f"use one of {', '.join(PropagationCheck.values)}"}, code="invalid_propagation_check"
        )
    return check


def _dns_name_free(provider: str, name: str, *, exclude: int | None = None) -> None:
    if DnsAccount.objects.filter(provider=provider, name=name).exclude(pk=exclude).exists():
        raise ValidationError(f"a {provider} DNS account named {name!r} already exists", code="name_taken")


@transaction.atomic
def dns_account_create(
    *,
    name: str,
    provider: str,
    credentials: dict[str, str],
    propagation_seconds: int | None = None,
    propagation_check: str = PropagationCheck.ACTIVE,
    check_nameservers: list[str] | None = None,
    is_default=False,
    actor: Actor,
) -> DnsAccount:
    cleaned = _dns_credentials_clean(provider, credentials)
    _propagation_clean(propagation_seconds)
    _propagation_check_clean(propagation_check)
    check_nameservers = check_nameservers_clean(check_nameservers)
    _dns_name_free(provider, name)
    if is_default or not DnsAccount.objects.filter(provider=provider).exists():
        # The first account of a provider is its default.
        DnsAccount.objects.filter(provider=provider, is_default=True).update(is_default=False)
        is_default = True
    account = DnsAccount.objects.create(
        name=name,
        provider=provider,
        credentials=cleaned,
        propagation_seconds=propagation_seconds,
        propagation_check=propagation_check,
        check_nameservers=check_nameservers,
        is_default=is_default,
    )
    account_audit(actor=actor, verb="created", account=account, before={}, after=account_snapshot(account))
    return account


DNS_ACCOUNT_FIELDS = (
    "name", "provider", "credentials", "propagation_seconds", "propagation_check", "check_nameservers", "is_default",
)  # fmt: skip


@transaction.atomic
def dns_account_update(*, account: DnsAccount, actor: Actor, **changes) -> DnsAccount:
    """Change the fields given (those of ``dns_account_create``). Credentials given replace the stored ones
    whole; a new provider without new credentials checks the stored ones against it."""
    unknown = set(changes) - set(DNS_ACCOUNT_FIELDS)
    if unknown:
        raise TypeError(f"dns_account_update: unknown fields {sorted(unknown)}")
    account = DnsAccount.objects.select_for_update().get(pk=account.pk)
    before = account_snapshot(account)
    provider = changes.get("provider", account.provider)
    moved = provider != account.provider
    if "credentials" in changes or moved:
        given = changes.get("credentials")
        if given is None:
            given = dns_credentials_kept(account=account, provider=provider)
        changes["credentials"] = _dns_credentials_clean(provider, given)
    _propagation_clean(changes.get("propagation_seconds"))
    if "propagation_check" in changes:
        _propagation_check_clean(changes["propagation_check"])
    if "check_nameservers" in changes:
        changes["check_nameservers"] = check_nameservers_clean(changes["check_nameservers"])
    _dns_name_free(provider, changes.get("name", account.name), exclude=account.pk)
    is_default = changes.get("is_default", account.is_default and not moved)
    others = DnsAccount.objects.filter(provider=provider).exclude(pk=account.pk)
    if is_default or not others.exists():
        others.filter(is_default=True).update(is_default=False)
        is_default = True
    for field, value in {**changes, "is_default": is_default}.items():
        setattr(account, field, value)
    account.save()
    account_audit(actor=actor, verb="updated", account=account, before=before, after=account_snapshot(account))
    return account


def dns_account_delete(*, account: DnsAccount, actor: Actor) -> None:
    account_delete_unless_used(account, f"DNS account {account}", actor)
