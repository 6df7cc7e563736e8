"""The current tenant's ACME CA accounts (registered at their CA on first use) and DNS accounts."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.services.users import user_email_clean
from apps.accounts.validators import validate_eab_hmac_key, validate_eab_kid
from apps.certificates.acme import runner
from apps.certificates.acme.auditing import account_audit, account_delete_unless_used, account_snapshot
from apps.certificates.acme.models import CA_PRESETS, CaAccount
from apps.certificates.services.acme_options import fallback_position_clean
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
    account_delete_unless_used(account, f"CA account {account.name!r}", actor)


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
