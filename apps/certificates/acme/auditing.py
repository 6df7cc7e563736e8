"""What the CA and DNS account services write to the audit log: one event per write, on the account (its
id, and its name as the name that outlives it). Secrets (the EAB HMAC key, DNS credentials) only as
"changed"; the ACME account's files are never recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from apps.certificates.acme.models import CaAccount, DnsAccount
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record, audit_snapshot

CA_ACCOUNT_AUDITED = (
    "name", "directory_url", "email", "eab_kid", "eab_hmac_key", "trust_bundle", "is_default", "fallback_position",
)  # fmt: skip
DNS_ACCOUNT_AUDITED = (
    "name", "provider", "credentials", "propagation_seconds", "propagation_check", "check_nameservers", "is_default",
)  # fmt: skip
SECRETS = ("eab_hmac_key", "credentials")
_AUDITED = {CaAccount: ("ca_account", CA_ACCOUNT_AUDITED), DnsAccount: ("dns_account", DNS_ACCOUNT_AUDITED)}


def account_snapshot(account: CaAccount | DnsAccount | None) -> dict[str, Any]:
    """The account's audited fields; an empty secret counts as none, so creating without one is no change."""
    if account is None:
        return {}
    snapshot = audit_snapshot(account, _AUDITED[type(account)][1])
    return {name: value for name, value in snapshot.items() if not (name in SECRETS and not value)}


def account_audit(
    *, actor: Actor, verb: str, account: CaAccount | DnsAccount, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """Record ``<ca_account|dns_account>.<verb>`` with what changed; nothing when nothing did."""
    object_type = _AUDITED[type(account)][0]
    changes = audit_changes(before, after, secret=SECRETS)
    if changes or verb != "updated":
        audit_record(
            actor=actor,
            action=f"{object_type}.{verb}",
            object_type=object_type,
            object_id=account.pk,
            object_name=str(account),
            changes=changes,
        )


def account_delete_unless_used(account: CaAccount | DnsAccount, label: str, actor: Actor) -> None:
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
