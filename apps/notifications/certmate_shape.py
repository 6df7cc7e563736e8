"""CertMate's ``notifications`` settings block and certmate's channels, both ways: what channels a block
becomes (the importer and POST /api/notifications/config), and the block certmate's channels read as
(GET /api/notifications/config). Pure mapping: nothing is written here.

CertMate's block: ``{"enabled", "events": [...], "digest_enabled", "channels": {"smtp": {"enabled", "host",
"port", "username", "password", "from_address", "to_addresses", "use_tls"}, "webhooks": [{"name", "type",
"url", "enabled", "events", "token", "chat_id", ...}]}}``. Its SMTP server is not certmate's (certmate
mails through the platform's server); Slack, Discord, Telegram, ntfy and Gotify webhooks become Apprise
channels; generic webhooks webhook channels (signed with certmate's own secret)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from apps.notifications.kinds import DEFAULT_KINDS, ChannelKind, NoticeKind
from apps.notifications.targets import apprise_scheme

MASK = "********"  # CertMate's sentinel for a masked secret
EMAIL_CHANNEL = "email"  # the channel CertMate's SMTP block becomes
MAX_WEBHOOKS = 50
# CertMate's events and what certmate tells for each.
EVENTS: dict[str, tuple[str, ...]] = {
    "certificate_created": (NoticeKind.ISSUED,),
    "certificate_renewed": (NoticeKind.RENEWED,),
    "certificate_expiring": (NoticeKind.EXPIRING, NoticeKind.EXPIRED),
    "certificate_failed": (NoticeKind.ISSUE_FAILED, NoticeKind.RENEWAL_FAILED),
    "certificate_revoked": (NoticeKind.REVOKED,),
}
CERTMATE_EVENT = {kind: event for event, kinds in EVENTS.items() for kind in kinds}
# Apprise schemes as CertMate's webhook types (others read as certmate's own type "apprise").
TYPE_OF_SCHEME = {"slack": "slack", "discord": "discord", "tgram": "telegram", "ntfy": "ntfy", "ntfys": "ntfy",
                  "gotify": "gotify", "gotifys": "gotify"}  # fmt: skip
SMTP_SERVER_FIELDS = ("host", "port", "username", "password", "from_address", "use_tls")
GENERIC_EXTRAS = ("auth_type", "auth_token", "headers", "payload_template", "secret", "api_key_header")
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,100}")


@dataclass
class Planned:
    """One channel a CertMate block asks for."""

    item: str  # where it is in the block, for reports and errors
    name: str
    kind: str
    target: str = ""  # "" with keep_target: the stored target stays (CertMate sent it masked)
    recipients: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=lambda: list(DEFAULT_KINDS))
    enabled: bool = True
    keep_target: bool = False
    notes: list[str] = field(default_factory=list)  # what of CertMate's channel certmate does not keep

    def fields(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "target": self.target, "recipients": self.recipients,
                "events": self.events, "enabled": self.enabled}  # fmt: skip


@dataclass
class Plan:
    channels: list[Planned] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (item, why it becomes no channel)
    webhooks_given: bool = False  # CertMate replaces its webhook list as a whole
    smtp_given: bool = False


class ShapeError(ValueError):
    """The block is not CertMate's shape (a 400 for the API, an attention line for the importer)."""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _event_list(value: Any, item: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(event, str) for event in value) or len(value) > 50:
        raise ShapeError(f"{item}: events must be a list of CertMate event names")
    return value


def _kinds(global_events: list[str], own: list[str], planned: Planned) -> list[str]:
    """certmate's kinds for CertMate's two filters (both apply; an empty one lets everything through)."""
    chosen = [set(events) for events in (global_events, own) if events]
    if not chosen:
        return list(DEFAULT_KINDS)
    events = set.intersection(*chosen)
    unknown = sorted(event for event in events if event not in EVENTS)
    if unknown:
        planned.notes.append(f"events {', '.join(unknown)[:200]} are not certmate's: not told")
    return [kind for kind in DEFAULT_KINDS if CERTMATE_EVENT.get(kind) in events]


def _path_parts(url: str, prefix: str) -> list[str] | None:
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if not path.startswith(prefix):
        return None
    parts = [part for part in path[len(prefix) :].split("/") if part]
    return parts or None


def _apprise_url(kind: str, webhook: dict[str, Any]) -> str:
    """CertMate's slack/discord/telegram/ntfy/gotify webhook as an Apprise URL; ShapeError saying why not."""
    url, token = _text(webhook.get("url")), _text(webhook.get("token"))
    if kind == "telegram":
        chat_id = _text(str(webhook.get("chat_id") or ""))
        if not (token and chat_id):
            raise ShapeError("a Telegram channel needs its token and chat_id")
        return f"tgram://{quote(token, safe=':')}/{quote(chat_id, safe='')}"
    prefix = {"slack": "/services/", "discord": "/api/webhooks/", "ntfy": "/", "gotify": "/"}[kind]
    parts = _path_parts(url, prefix)
    try:
        split = urlsplit(url)
    except ValueError:
        raise ShapeError(f"its {kind} URL cannot be read") from None
    secure = "s" if split.scheme == "https" else ""
    if kind == "slack" and parts and len(parts) == 3:
        return "slack://" + "/".join(parts)
    if kind == "discord" and parts and len(parts) == 2:
        return "discord://" + "/".join(parts)
    if kind == "ntfy" and parts and split.netloc:
        return f"ntfy{secure}://{split.netloc}/{'/'.join(parts)}" + (f"?token={quote(token, safe='')}" if token else "")
    if kind == "gotify" and split.netloc and token:
        return f"gotify{secure}://{'/'.join([split.netloc, *(parts or []), quote(token, safe='')])}"
    raise ShapeError(f"its {kind} URL is not one certmate can read as {kind}'s")


def _webhook(webhook: Any, index: int, global_events: list[str], plan: Plan) -> None:
    item = f"notifications.channels.webhooks[{index}]"
    if not isinstance(webhook, dict):
        raise ShapeError(f"{item}: must be an object")
    name = _text(webhook.get("name")) or f"webhook-{index + 1}"
    if not _NAME.fullmatch(name):
        raise ShapeError(f"{item}: a name of 1 to 100 characters")
    item = f"notifications.channels.webhooks[{name}]"
    kind = _text(webhook.get("type")) or "generic"
    enabled = webhook.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ShapeError(f"{item}: enabled must be true or false")
    planned = Planned(item=item, name=name, kind=ChannelKind.WEBHOOK, enabled=enabled)
    planned.events = _kinds(global_events, _event_list(webhook.get("events"), item), planned)
    masked = MASK in (webhook.get("url"), webhook.get("token"))
    if kind == "generic":
        planned.target = _text(webhook.get("url"))
        kept = [extra for extra in GENERIC_EXTRAS if webhook.get(extra) not in (None, "", {}, "none")]
        if kept or (_text(webhook.get("method")) or "POST").upper() != "POST":
            planned.notes.append(
                f"its {', '.join(kept) or 'method'} are not kept: certmate POSTs its own JSON payload signed with "
                "the channel's secret (X-Certmate-Signature): point the receiver at that"
            )
    elif kind in ("slack", "discord", "telegram", "ntfy", "gotify"):
        planned.kind = ChannelKind.APPRISE
        if not masked:
            try:
                planned.target = _apprise_url(kind, webhook)
            except ShapeError as exc:
                plan.dropped.append((item, f"{exc}: add it as a channel yourself"))
                return
    else:
        plan.dropped.append((item, f"webhook type {kind[:40]!r} is not one certmate sends to: add a channel yourself"))
        return
    planned.keep_target = masked
    if masked:
        planned.target = ""
    plan.channels.append(planned)


def _smtp(smtp: Any, config: dict[str, Any], global_events: list[str], plan: Plan) -> None:
    item = "notifications.channels.smtp"
    if not isinstance(smtp, dict):
        raise ShapeError(f"{item}: must be an object")
    plan.smtp_given = True
    server = [name for name in SMTP_SERVER_FIELDS if smtp.get(name) not in (None, "", MASK)]
    if any(name in server for name in ("host", "username", "password")):
        plan.dropped.append((f"{item}.host", "certmate uses the platform's mail server: CertMate's SMTP server, "
                             "login and password are not kept"))  # fmt: skip
    recipients = smtp.get("to_addresses") or []
    if isinstance(recipients, str):
        recipients = [address for address in re.split(r"[,\s]+", recipients) if address]
    if not isinstance(recipients, list) or not all(isinstance(address, str) for address in recipients):
        raise ShapeError(f"{item}.to_addresses: must be a list of e-mail addresses")
    if not recipients:
        if smtp.get("enabled"):
            plan.dropped.append((f"{item}.to_addresses", "no recipients: add an e-mail channel yourself"))
        return
    enabled = smtp.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ShapeError(f"{item}: enabled must be true or false")
    planned = Planned(item=item, name=EMAIL_CHANNEL, kind=ChannelKind.EMAIL, recipients=recipients, enabled=enabled)
    planned.events = _kinds(global_events, [], planned)
    if config.get("digest_enabled", True) is not False:
        planned.events.append(NoticeKind.DIGEST)
    plan.channels.append(planned)


def plan_from_certmate(config: Any) -> Plan:
    """The channels CertMate's ``notifications`` block asks for; ShapeError when it is not that shape."""
    if not isinstance(config, dict):
        raise ShapeError("notifications must be a JSON object")
    plan = Plan()
    global_events = _event_list(config.get("events"), "notifications")
    channels = config.get("channels") or {}
    if not isinstance(channels, dict):
        raise ShapeError("notifications.channels must be an object")
    smtp = channels.get("smtp", channels.get("email"))
    if smtp is not None:
        _smtp(smtp, config, global_events, plan)
    webhooks = channels.get("webhooks")
    if webhooks is not None:
        if not isinstance(webhooks, list) or len(webhooks) > MAX_WEBHOOKS:
            raise ShapeError(f"notifications.channels.webhooks must be a list of at most {MAX_WEBHOOKS}")
        plan.webhooks_given = True
        for index, webhook in enumerate(webhooks):
            _webhook(webhook, index, global_events, plan)
    names = [planned.name for planned in plan.channels]
    if len(names) != len(set(names)):
        raise ShapeError("two channels have the same name: name each webhook differently (and not 'email')")
    if config.get("enabled") is False:
        for planned in plan.channels:
            planned.enabled = False
    return plan


def certmate_type(channel: Any) -> str:
    """CertMate's type for a channel: smtp, generic, slack, discord, telegram, ntfy, gotify, or certmate's
    own "apprise" for the services CertMate has no type for."""
    if channel.kind == ChannelKind.EMAIL:
        return "smtp"
    if channel.kind == ChannelKind.WEBHOOK:
        return "generic"
    return TYPE_OF_SCHEME.get(apprise_scheme(channel.target_hint), "apprise")


def certmate_events(kinds: list[str]) -> list[str]:
    return sorted({CERTMATE_EVENT[kind] for kind in kinds if kind in CERTMATE_EVENT})


def config_from_channels(channels: list[Any], *, from_address: str) -> dict[str, Any]:
    """CertMate's block for certmate's channels, secrets masked: every target reads as CertMate's mask
    (certmate never shows one); the SMTP block is the platform's server, without its login."""
    emails = [channel for channel in channels if channel.kind == ChannelKind.EMAIL]
    email = next((channel for channel in emails if channel.name == EMAIL_CHANNEL), emails[0] if emails else None)
    smtp = {"enabled": bool(email and email.enabled), "to_addresses": list(email.recipients) if email else [],
            "from_address": from_address, "host": "", "port": None, "username": "", "use_tls": True,
            "events": certmate_events(email.events) if email else []}  # fmt: skip
    webhooks = [
        {
            "name": channel.name,
            "type": certmate_type(channel),
            "url": MASK,
            "enabled": channel.enabled,
            "events": certmate_events(channel.events),
            "target_hint": channel.target_hint,
        }
        for channel in channels
        if channel.kind != ChannelKind.EMAIL
    ]
    every = [channel for channel in channels if channel.kind != ChannelKind.EMAIL or channel is email]
    return {
        "enabled": any(channel.enabled for channel in every),
        "events": certmate_events([kind for channel in every for kind in channel.events]),
        "digest_enabled": bool(email and NoticeKind.DIGEST in email.events),
        "channels": {"smtp": smtp, "webhooks": webhooks},
    }
