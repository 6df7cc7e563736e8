"""Who changes state: a user through one of certmate's faces, or the system itself.

Every service that writes takes an ``Actor``. Views, the admin and the portal get theirs from
``request_actor(request)``; commands from ``Actor.command()``; beat, retries and imports from
``Actor.system(name)``. The audit log records what it holds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from rest_framework.throttling import BaseThrottle

USER_AGENT_LENGTH = 300


class Channel(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    PORTAL = "portal", "Portal"
    COMMAND = "command", "Command"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    """The acting party of a write, and the request context it came with (if any)."""

    channel: str
    user: Any = field(default=None, compare=False, repr=False)
    name: str = ""  # the user's e-mail, or what the system was doing ("renewal sweep", "import")
    token_prefix: str = ""
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def for_user(cls, user: Any, channel: str, **context: Any) -> Actor:
        return cls(channel=Channel(channel), user=user, name=getattr(user, "email", "") or str(user), **context)

    @classmethod
    def system(cls, name: str) -> Actor:
        """certmate itself: beat, a retry, a sweep, an import."""
        return cls(channel=Channel.SYSTEM, name=name)

    @classmethod
    def command(cls, user: Any = None, name: str = "manage.py") -> Actor:
        """An operator at the command line: as a user when one is named, else as the command."""
        if user is not None:
            return cls.for_user(user, Channel.COMMAND)
        return cls(channel=Channel.COMMAND, name=name)

    @property
    def kind(self) -> str:
        return "user" if self.user is not None else "system"

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


def _channel_of(request: Any) -> Channel:
    if getattr(request, "auth", None) is not None and hasattr(request.auth, "prefix"):
        return Channel.API  # an API token
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return Channel.API
    if path.startswith("/admin/"):
        return Channel.ADMIN
    return Channel.PORTAL


def client_address(request: Any) -> str | None:
    """The client's address, as the API's throttles and the sign-in lockout count it (DRF's rule): the
    peer, or X-Forwarded-For as written by the ``CERTMATE_API_NUM_PROXIES`` trusted proxies in front, so a
    client cannot choose its own address by sending the header. None when neither is an IP address."""
    for candidate in (BaseThrottle().get_ident(request), request.META.get("REMOTE_ADDR")):
        try:
            return str(ipaddress.ip_address((candidate or "").strip()))
        except ValueError:
            continue
    return None


def request_actor(request: Any, channel: str | None = None) -> Actor:
    """The actor of a request (Django's or DRF's): its user, channel and context. The channel follows
    from how the request came (an API token or /api/, /admin/, else the portal) unless given."""
    user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    auth = getattr(request, "auth", None)
    meta = getattr(request, "META", None) or {}
    context = {
        "token_prefix": getattr(auth, "prefix", "") if auth is not None else "",
        "ip_address": client_address(request),
        "user_agent": str(meta.get("HTTP_USER_AGENT", ""))[:USER_AGENT_LENGTH],
    }
    chosen = Channel(channel) if channel else _channel_of(request)
    if user is None:
        return Actor(channel=chosen, name="anonymous", **context)
    return Actor.for_user(user, chosen, **context)
