"""Notification channels: made, changed, re-keyed, tested, un-flagged and deleted by a tenant admin, each
change audited. A channel's target (webhook or Apprise URL) and webhook secret are stored encrypted and
never shown again: the secret once, when made or rotated; the target as its hint (scheme and host)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from apps.certificates.models import CertificateKind
from apps.notifications.kinds import CHOOSABLE_KINDS, DEFAULT_KINDS, ChannelKind, NoticeKind
from apps.notifications.models import NotificationChannel
from apps.notifications.targets import TargetError, apprise_check, target_hint, webhook_check
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record, audit_snapshot

AUDIT_TYPE = "notification_channel"
MAX_RECIPIENTS = 20
MAX_FILTERS = 20
SECRET_BYTES = 32
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
_PATTERN = re.compile(r"[a-z0-9*?.-]{1,253}")
_AUDITED = (
    "name",
    "kind",
    "enabled",
    "events",
    "certificate_kinds",
    "issuers",
    "name_patterns",
    "recipients",
    "target",
    "target_hint",
)
_CHANGEABLE = frozenset(_AUDITED) - {"kind", "target_hint"}


def _strings(value: Any, field: str, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        errors[field] = "must be a list"
        return []
    items = list(value)
    if not all(isinstance(item, str) for item in items):
        errors[field] = "must be a list of text values"
        return []
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def _check_lists(fields: dict[str, Any], kind: str, errors: dict[str, str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    events = fields.get("events")
    events = list(DEFAULT_KINDS) if events is None else _strings(events, "events", errors)
    unknown = [event for event in events if event not in CHOOSABLE_KINDS]
    if unknown:
        errors["events"] = f"unknown events {unknown[:5]}: choose from {', '.join(CHOOSABLE_KINDS)}"
    elif NoticeKind.DIGEST in events and kind != ChannelKind.EMAIL:
        errors["events"] = "the weekly digest goes to e-mail channels only"
    clean["events"] = events
    kinds = _strings(fields.get("certificate_kinds"), "certificate_kinds", errors)
    if any(value not in CertificateKind.values for value in kinds):
        errors["certificate_kinds"] = f"choose from {', '.join(CertificateKind.values)}"
    clean["certificate_kinds"] = kinds
    issuers = _strings(fields.get("issuers"), "issuers", errors)
    if len(issuers) > MAX_FILTERS or any(len(value) > 200 for value in issuers):
        errors["issuers"] = f"at most {MAX_FILTERS} issuer names of 200 characters"
    clean["issuers"] = issuers
    patterns = [value.lower() for value in _strings(fields.get("name_patterns"), "name_patterns", errors)]
    if len(patterns) > MAX_FILTERS or not all(_PATTERN.fullmatch(value) for value in patterns):
        errors["name_patterns"] = (
            f"at most {MAX_FILTERS} name patterns such as *.example.com (letters, digits, '.', '-', '*', '?')"
        )
    clean["name_patterns"] = patterns
    recipients = [value.lower() for value in _strings(fields.get("recipients"), "recipients", errors)]
    if kind == ChannelKind.EMAIL:
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            errors.setdefault("recipients", f"give 1 to {MAX_RECIPIENTS} e-mail addresses")
        for address in recipients:
            try:
                validate_email(address)
            except ValidationError:
                errors["recipients"] = f"{address[:254]!r} is not an e-mail address"
                break
    elif recipients:
        errors["recipients"] = "only e-mail channels have recipients"
    clean["recipients"] = recipients
    return clean


def _check_target(kind: str, target: str, errors: dict[str, str]) -> None:
    if kind == ChannelKind.EMAIL:
        if target:
            errors["target"] = "e-mail channels have no target URL: give recipients"
        return
    if not isinstance(target, str) or not target:
        errors["target"] = "give the " + ("webhook URL" if kind == ChannelKind.WEBHOOK else "Apprise URL")
        return
    try:
        (webhook_check if kind == ChannelKind.WEBHOOK else apprise_check)(target)
    except TargetError as exc:
        errors["target"] = str(exc)


def channel_validate(*, fields: dict[str, Any], check_target: bool = True) -> dict[str, Any]:
    """The channel's fields, cleaned; ValidationError naming each bad one."""
    errors: dict[str, str] = {}
    kind = fields.get("kind")
    if kind not in ChannelKind.values:
        raise ValidationError({"kind": f"choose from {', '.join(ChannelKind.values)}"}, code="invalid")
    name = fields.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip() or "\x00"):
        errors["name"] = "give a name of 1 to 100 characters"
    clean = {"name": name.strip() if isinstance(name, str) else "", "kind": kind}
    enabled = fields.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"
    clean["enabled"] = enabled
    clean.update(_check_lists(fields, kind, errors))
    target = fields.get("target") or ""
    if check_target:
        _check_target(kind, target, errors)
    clean["target"] = target
    if errors:
        raise ValidationError(errors, code="invalid")
    return clean


def channel_audit(actor: Actor, action: str, channel: NotificationChannel, changes: dict[str, Any]) -> None:
    """Record ``notification_channel.<action>`` for ``channel``, in the caller's transaction."""
    audit_record(
        actor=actor,
        action=f"{AUDIT_TYPE}.{action}",
        target=channel,
        object_type=AUDIT_TYPE,
        object_name=channel.name,
        changes=changes,
    )


def _saved(channel: NotificationChannel) -> None:
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError:
        taken = ValidationError(f"another channel is named {channel.name!r}", code="name_taken")
        raise ValidationError({"name": taken}) from None  # 409, as other taken names


@transaction.atomic
def channel_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    target: str = "",
    recipients: Iterable[str] = (),
    events: Iterable[str] | None = None,
    certificate_kinds: Iterable[str] = (),
    issuers: Iterable[str] = (),
    name_patterns: Iterable[str] = (),
    enabled: bool = True,
) -> tuple[NotificationChannel, str | None]:
    """A new channel, and its webhook secret (shown this once; None for other kinds)."""
    clean = channel_validate(
        fields={
            "name": name,
            "kind": kind,
            "target": target,
            "recipients": recipients,
            "events": events,
            "certificate_kinds": certificate_kinds,
            "issuers": issuers,
            "name_patterns": name_patterns,
            "enabled": enabled,
        }
    )
    secret = secrets.token_urlsafe(SECRET_BYTES) if kind == ChannelKind.WEBHOOK else None
    channel = NotificationChannel(**clean, target_hint=target_hint(clean["target"]), secret=secret or "")
    _saved(channel)
    channel_audit(actor, "created", channel, audit_changes({}, audit_snapshot(channel, _AUDITED), secret=("target",)))
    return channel, secret


@transaction.atomic
def channel_update(*, actor: Actor, channel: NotificationChannel, **changes: Any) -> NotificationChannel:
    """Change the named fields; a target omitted or empty keeps the stored one. The kind stays."""
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValidationError({name: "cannot be changed" for name in sorted(unknown)}, code="invalid")
    row = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    before = audit_snapshot(row, _AUDITED)
    fields = {name: getattr(row, name) for name in _CHANGEABLE | {"kind"}}
    new_target = changes.pop("target", "") or ""
    fields.update(changes)
    fields["target"] = new_target or row.target
    # A stored target was checked when given; it is checked again only when replaced.
    clean = channel_validate(fields=fields, check_target=bool(new_target) or not row.target)
    for name, value in clean.items():
        setattr(row, name, value)
    row.target_hint = target_hint(row.target)
    _saved(row)
    channel_audit(actor, "updated", row, audit_changes(before, audit_snapshot(row, _AUDITED), secret=("target",)))
    return row


@transaction.atomic
def channel_rotate_secret(*, actor: Actor, channel: NotificationChannel) -> str:
    """A new webhook secret (shown this once); the old one stops signing at once."""
    row = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    if row.kind != ChannelKind.WEBHOOK:
        raise ValidationError({"kind": "only webhook channels have a signing secret"}, code="invalid")
    row.secret = secrets.token_urlsafe(SECRET_BYTES)
    row.save(update_fields=["secret", "updated_at"])
    channel.secret = row.secret
    channel_audit(actor, "secret_rotated", row, {"secret": "changed"})
    return row.secret


@transaction.atomic
def channel_delete(*, actor: Actor, channel: NotificationChannel) -> None:
    """Delete the channel and its delivery log."""
    row = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    channel_audit(actor, "deleted", row, audit_changes(audit_snapshot(row, _AUDITED), {}, secret=("target",)))
    row.delete()


@transaction.atomic
def channel_unflag(*, actor: Actor, channel: NotificationChannel) -> NotificationChannel:
    """Clear the flag of a channel that kept failing (its admin fixed it, or accepts it)."""
    row = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    changes = audit_changes(
        {"flagged_at": row.flagged_at, "consecutive_failures": row.consecutive_failures},
        {"flagged_at": None, "consecutive_failures": 0},
    )
    row.flagged_at, row.consecutive_failures = None, 0
    row.save(update_fields=["flagged_at", "consecutive_failures", "updated_at"])
    channel_audit(actor, "unflagged", row, changes)
    return row
