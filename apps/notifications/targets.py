"""Where a channel sends: a webhook URL or an Apprise URL, checked before it is stored; what may be shown
of it (scheme and host); and its redaction from any error text (tokens ride in paths and queries).

Apprise is locked down to the services listed in APPRISE_SCHEMES: no local files, no remote
configuration (apprise://, AppriseConfig), no generic XML/form posters, no plugin loading. A scheme
whose host part names the destination has that host checked against the egress rule now; the
others always reach their service's own public API (their "host" part is a token). Every connection is
checked again, address by address, when it is made.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from certmate.egress import EgressRefused, check_host, check_url

if TYPE_CHECKING:  # annotations only: Apprise (0.6 s to import) loads when a channel first needs it
    from apprise import AppriseAsset
    from apprise.plugins.base import NotifyBase

MAX_TARGET_CHARS = 2048
MIN_REDACTED = 8
WEBHOOK_SCHEMES = ("https", "http")

# Apprise 2.2.0 schemes allowed (apprise/plugins/*.py), and whether the URL's host is where it connects.
APPRISE_SCHEMES: dict[str, bool] = {
    "slack": False,  # Slack (hooks.slack.com / slack.com API)
    "workflow": True,  # Microsoft Teams (Power Automate workflows)
    "workflows": True,
    "discord": False,  # Discord webhooks
    "tgram": False,  # Telegram bot API
    "ntfy": True,  # ntfy (ntfy.sh or a server of the tenant's)
    "ntfys": True,
    "gotify": True,  # Gotify
    "gotifys": True,
    "pagerduty": False,  # PagerDuty Events API
    "mmost": True,  # Mattermost
    "mmosts": True,
    "rocket": True,  # Rocket.Chat
    "rockets": True,
    "matrix": True,  # Matrix
    "matrixs": True,
    "pover": False,  # Pushover
    "opsgenie": False,  # Opsgenie
    "json": True,  # a generic JSON POST (Apprise's format)
    "jsons": True,
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]{0,31})://", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# Apprise URL parameters a tenant may not set: they would read local files, send attachments or
# follow redirects.
_REFUSED_PARAMETERS = frozenset({"attach", "attachment", "template", "tpl", "redirect", "redirects", "config"})


class TargetError(ValueError):
    """Why a target cannot be used, in words for the channel's admin (never quoting a secret)."""


def webhook_check(url: str) -> str:
    try:
        check_url(url, schemes=WEBHOOK_SCHEMES)
    except EgressRefused as exc:
        raise TargetError(f"webhook URL refused: {exc}") from None
    return url


def apprise_scheme(url: str) -> str:
    match = _SCHEME.match(url or "")
    return match.group(1).lower() if match else ""


def apprise_check(url: str) -> str:
    """The Apprise URL if its service is allowed and Apprise understands it; TargetError saying why not."""
    if not isinstance(url, str) or not url or len(url) > MAX_TARGET_CHARS or _CONTROL.search(url):
        raise TargetError(f"not a valid Apprise URL (no spaces or control characters, {MAX_TARGET_CHARS} at most)")
    scheme = apprise_scheme(url)
    if scheme not in APPRISE_SCHEMES:
        raise TargetError(
            f"{scheme + '://' if scheme else 'this URL'} is not an allowed service; "
            f"use one of {', '.join(s + '://' for s in APPRISE_SCHEMES)} (web hooks: a webhook channel)"
        )
    parts = urlsplit(url)
    refused = sorted(apprise_parameters(url) & _REFUSED_PARAMETERS)
    if refused:
        raise TargetError(f"the URL parameter {refused[0]!r} is not allowed here")
    if APPRISE_SCHEMES[scheme]:
        try:
            host = parts.hostname
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise TargetError("not a valid Apprise URL (bad host or port)") from None
        if not host:
            raise TargetError("the Apprise URL names no host")
        try:
            check_host(host)
        except EgressRefused as exc:
            raise TargetError(f"Apprise URL refused: {exc}") from None
    if not apprise_understands(url):
        raise TargetError(f"Apprise cannot read this {scheme}:// URL: check it against Apprise's documentation")
    return url


def apprise_parameters(url: str) -> set[str]:
    """The parameter names Apprise reads from ``url``, as Apprise reads them, without their +/-/: prefixes:
    its query starts at the first "?" even after a "#" (a channel or room), splits at ";" too, and its names
    are unquoted ("/#room?x=1;%74emplate=" is a template)."""
    from apprise.utils.parse import parse_url

    parsed = parse_url(url, verify_host=False) or {}
    return {name.lstrip("+-:").strip() for name in parsed.get("qsd") or {}}


def apprise_asset() -> AppriseAsset:
    """Apprise's settings for certmate: no plugin paths (only its built-in plugins), nothing written to
    disk, no templates read from files, redirects not followed."""
    from apprise import AppriseAsset
    from apprise.common import PersistentStoreMode

    return AppriseAsset(
        plugin_paths=[], storage_mode=PersistentStoreMode.MEMORY, allow_templates=False, http_redirects=False
    )


def apprise_service(url: str) -> NotifyBase | None:
    """The Apprise plugin for an allowed ``url``, or None when Apprise cannot read it (or it is not allowed)."""
    if apprise_scheme(url) not in APPRISE_SCHEMES or apprise_parameters(url) & _REFUSED_PARAMETERS:
        return None  # checked again here: a stored URL may predate the rule
    from apprise import Apprise

    return Apprise.instantiate(url, asset=apprise_asset(), suppress_exceptions=True)


def apprise_understands(url: str) -> bool:
    return apprise_service(url) is not None


def target_hint(url: str) -> str:
    """What may be shown of a target: its scheme and host (for a token-host service, the scheme only)."""
    scheme = apprise_scheme(url)
    if not scheme:
        return ""
    if scheme in APPRISE_SCHEMES and not APPRISE_SCHEMES[scheme]:
        return f"{scheme}://…"
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return f"{scheme}://{host[:200]}" + ("/…" if host else "…")


def target_redact(text: str, url: str) -> str:
    """``text`` without the target URL and the secret parts of it (path segments, query values, user info)."""
    if not url:
        return text
    secrets = {url}
    try:
        parts = urlsplit(url)
        secrets.update(segment for segment in re.split(r"[/?&=:@;,]", url[len(parts.scheme) + 3 :]) if segment)
        if APPRISE_SCHEMES.get(parts.scheme.lower(), True):  # a host that names a server is no secret
            secrets.discard(parts.hostname or "")
    except ValueError:
        pass
    # Tokens are long; a short segment ("hook", "v1") is a path word, and redacting it would garble the text.
    secrets = {s for s in secrets if len(s) >= MIN_REDACTED or s == url}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
