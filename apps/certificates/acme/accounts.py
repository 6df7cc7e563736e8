"""The current tenant's ACME CA accounts (registered at their CA on first use) and DNS accounts."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from apps.accounts.services.users import user_email_clean
from apps.accounts.validators import validate_eab_hmac_key, validate_eab_kid
from apps.certificates.acme import runner
from apps.certificates.acme.auditing import account_audit, account_snapshot
from apps.certificates.acme.models import CA_PRESETS, CaAccount, DnsAccount, PropagationCheck
from apps.certificates.acme.propagation import check_nameservers_clean
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, get_provider
from apps.certificates.services.acme_options import fallback_position_clean
from apps.certificates.services.requests import CertificateRequestError
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.egress import EgressRefused, check_url
from certmate.locks import CA_ACCOUNT, session_lock, xact_lock_try


def ca_directory_url(preset_or_url: str) -> str:
    """A preset's directory URL, or the custom https URL given, on a host the egress rule allows."""
    if preset_or_url in CA_PRESETS:
        return CA_PRESETS[preset_or_url][1]
    if not preset_or_url.startswith("https://"):
        presets = ", ".join(CA_PRESETS)
        raise ValidationError(
            f"CA {str(preset_or_url)[:100]!r} is neither a preset ({presets}) nor an https:// ACME directory URL",
            code="invalid_directory",
        )
    try:
        check_url(preset_or_url, schemes=("https",))
    except EgressRefused as exc:
        raise ValidationError(f"ACME directory URL: {exc}", code="refused_directory") from None
    return preset_or_url


def _eab_clean(eab_kid: str, eab_hmac_key: str) -> tuple[str, str]:
    """The EAB values as stored, checked to their format: they are written into certbot's configuration."""
    eab_kid, eab_hmac_key = (eab_kid or "").strip(), (eab_hmac_key or "").strip()
    validate_eab_kid(eab_kid)
    validate_eab_hmac_key(eab_hmac_key)
    return eab_kid, eab_hmac_key


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
    fallback_position: int | None = None,
    actor: Actor,
) -> CaAccount:
    """``fallback_position``: the account's place in the tenant's default fallback chain (None: not in it)."""
    eab_kid, eab_hmac_key = _eab_clean(eab_kid, eab_hmac_key)
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
        eab_kid=eab_kid,
        eab_hmac_key=eab_hmac_key,
        trust_bundle=trust_bundle,
        is_default=is_default,
        fallback_position=fallback_position_clean(fallback_position),
    )
    account.full_clean()
    account.save()
    account_audit(actor=actor, verb="created", account=account, before={}, after=account_snapshot(account))
    return account


def ca_account_eab_kept(*, account: CaAccount, directory_url: str) -> str:
    """The stored EAB HMAC key, for an account whose directory stays; a new directory needs it given
    again (ValidationError on eab_hmac_key), so a stored secret never follows a changed URL."""
    if account.eab_hmac_key and directory_url != account.directory_url:
        message = "a new directory URL needs the EAB HMAC key given again"
        raise ValidationError({"eab_hmac_key": ValidationError(message, code="credentials_required")})
    return account.eab_hmac_key


# What the ACME account at the CA was registered with: fixed once registered (a new CA account is
# the way to change them), as in the admin.
REGISTRATION_FIELDS = ("directory_url", "email", "eab_kid", "eab_hmac_key")
CA_ACCOUNT_FIELDS = (
    "name", "directory", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default", "fallback_position",
)  # fmt: skip


@transaction.atomic
def ca_account_update(*, account: CaAccount, actor: Actor, **changes) -> CaAccount:
    """Change the fields given (those of ``ca_account_create``); the others keep their values."""
    unknown = set(changes) - set(CA_ACCOUNT_FIELDS)
    if unknown:
        raise TypeError(f"ca_account_update: unknown fields {sorted(unknown)}")
    account = CaAccount.objects.select_for_update().get(pk=account.pk)
    before = account_snapshot(account)
    if not xact_lock_try(CA_ACCOUNT, str(account.pk)):
        raise ValidationError(
            f"CA account {account.name!r} is being registered at its CA right now: try again in a minute",
            code="conflict",
        )
    if "directory" in changes:
        changes["directory_url"] = ca_directory_url(changes.pop("directory"))
    if "email" in changes:
        changes["email"] = user_email_clean(changes["email"])
    if "fallback_position" in changes:
        changes["fallback_position"] = fallback_position_clean(changes["fallback_position"], account=account)
    for field in ("eab_kid", "eab_hmac_key"):
        if isinstance(changes.get(field), str):
            changes[field] = changes[field].strip()
    if account.registered_at:
        fixed = sorted(f for f in REGISTRATION_FIELDS if f in changes and changes[f] != getattr(account, f))
        if fixed:
            raise ValidationError(
                f"CA account {account.name!r} is registered at its CA: {', '.join(fixed)} cannot change "
                "(create a new CA account instead)",
                code="account_registered",
            )
    if "directory_url" in changes and "eab_hmac_key" not in changes:
        ca_account_eab_kept(account=account, directory_url=changes["directory_url"])
    if "eab_kid" in changes:
        changes["eab_kid"] = _eab_clean(changes["eab_kid"], "")[0]
    if "eab_hmac_key" in changes:
        changes["eab_hmac_key"] = _eab_clean("", changes["eab_hmac_key"])[1]
    if "name" in changes and CaAccount.objects.filter(name=changes["name"]).exclude(pk=account.pk).exists():
        raise ValidationError(f"a CA account named {changes['name']!r} already exists", code="name_taken")
    for field, value in changes.items():
        setattr(account, field, value)
    if bool(account.eab_kid) != bool(account.eab_hmac_key):
        raise ValidationError("give the EAB key id and HMAC key together", code="eab_incomplete")
    if changes.get("is_default"):
        CaAccount.objects.filter(is_default=True).exclude(pk=account.pk).update(is_default=False)
    account.full_clean()
    account.save()
    account_audit(actor=actor, verb="updated", account=account, before=before, after=account_snapshot(account))
    return account


def ca_account_delete(*, account: CaAccount, actor: Actor) -> None:
    _delete_unless_used(account, f"CA account {account.name!r}", actor)


def _delete_unless_used(account: CaAccount | DnsAccount, label: str, actor: Actor) -> None:
    try:
        with transaction.atomic():
            before, pk = account_snapshot(account), account.pk
            account.delete()
            account.pk = pk  # for the record: the id it had
            account_audit(actor=actor, verb="deleted", account=account, before=before, after={})
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise ValidationError(
            f"{label} is used by {count} certificate(s): move them to another account first", code="in_use"
        ) from None


class RegistrationError(runner.CertbotError):
    """The ACME account could not be registered at its CA: ``reason`` says why in one line."""


def ca_account_ensure_registered(*, ca_account_id: int, actor: Actor, timeout_seconds: int = 300) -> CaAccount:
    """The ACME account, registered at the CA on first use (RegistrationError when the CA refuses or
    cannot be reached), recorded as ``ca_account.registered``. No transaction stays open while the CA
    answers: concurrent first uses wait on a session lock of the account instead, so every worker ends
    up with the one account."""
    account = CaAccount.objects.get(pk=ca_account_id)
    if account.acme_account:
        return account
    # The holder's registration ends within its own deadline: waiting a little longer is enough.
    with session_lock(CA_ACCOUNT, str(ca_account_id), wait_seconds=timeout_seconds + 30) as taken:
        if not taken:
            busy = f"CA account {account.name!r} is still being registered by another worker (temporarily busy)"
            raise RegistrationError(busy)
        account = CaAccount.objects.get(pk=ca_account_id)
        if account.acme_account:
            return account  # registered while this one waited
        try:
            files = runner.register(acme_account_of(account), timeout_seconds=timeout_seconds)
        except runner.CertbotError as exc:
            reason = f"registering the ACME account at {account.directory_url} failed: {exc.reason}"
            raise RegistrationError(reason, exc.output, timed_out=exc.timed_out) from None
        # Stored only if no registration was stored meanwhile (ca_account_update refuses while this lock is held).
        uri, now = _registration_uri(files), timezone.now()
        with transaction.atomic():
            if CaAccount.objects.filter(pk=ca_account_id, registered_at__isnull=True).update(
                acme_account=files, acme_account_uri=uri, registered_at=now
            ):
                changes = {"acme_account_uri": ["", uri], "registered_at": [None, now]}
                audit_record(
                    actor=actor,
                    action="ca_account.registered",
                    object_type="ca_account",
                    object_id=account.pk,
                    object_name=account.name,
                    changes=changes,
                )
        return CaAccount.objects.get(pk=ca_account_id)


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
    _delete_unless_used(account, f"DNS account {account}", actor)


# -- naming the accounts a certificate is issued with (API, commands) -------------------------------------


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
