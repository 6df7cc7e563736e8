"""``{% load portal %}``: role checks, links to pages that may not exist yet, and the badges every page
shows the same way (days left, job and certificate states: a colour AND a word, never colour alone)."""

from __future__ import annotations

import math
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from apps.accounts.models import Role
from apps.portal.navigation import page_url as _page_url

register = template.Library()

# Days left at or below which an expiry is red, then amber; above: green.
DANGER_DAYS = 7
WARNING_DAYS = 21


@register.filter
def has_role(user, role: str) -> bool:
    """``{% if user|has_role:"operator" %}``: the user's role is ``role`` or above."""
    return bool(getattr(user, "is_authenticated", False) and user.has_role(role))


@register.filter
def can_write(user) -> bool:
    """Operators and admins: whoever may renew, request, revoke, delete (``{% if user|can_write %}``)."""
    return has_role(user, Role.OPERATOR)


@register.filter
def is_admin(user) -> bool:
    return has_role(user, Role.ADMIN)


@register.filter
def ago(moment: datetime | None) -> str:
    """``{{ job.created_at|ago }}``: "just now", "5 minutes ago", "2 days, 3 hours ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


@register.simple_tag
def page_url(name: str, *args, **kwargs) -> str:
    """``{% page_url "portal:certificates" as url %}{% if url %}<a href="{{ url }}">…``: empty while
    the page does not exist, so a page can link to pages other branches add later."""
    return _page_url(name, *args, **kwargs) or ""


def expiry_of(not_after: datetime | None, now: datetime | None = None) -> dict:
    """A level (ok, warning, danger) and its words for a certificate ending at ``not_after``."""
    if not_after is None:
        return {"level": "muted", "text": "not issued", "days": None}
    seconds = (not_after - (now or timezone.now())).total_seconds()
    days = math.floor(seconds / 86400)
    if seconds <= 0:
        ago = -days - 1 if days < 0 else 0
        text = "expired today" if ago == 0 else f"expired {ago} day{'s' if ago != 1 else ''} ago"
        return {"level": "danger", "text": text, "days": days}
    text = "expires today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
    level = "danger" if days <= DANGER_DAYS else "warning" if days <= WARNING_DAYS else "ok"
    return {"level": level, "text": text, "days": days}


@register.inclusion_tag("portal/_expiry.html")
def expiry(not_after: datetime | None) -> dict:
    """``{% expiry version.not_after %}``: a badge saying how long is left, coloured by how soon."""
    return {**expiry_of(not_after), "not_after": not_after}


STATE_LEVELS = {
    "succeeded": "ok",
    "active": "ok",
    "published": "ok",
    "queued": "info",
    "running": "info",
    "pending": "info",
    "failed": "danger",
    "revoked": "danger",
    "needs_csr": "warning",
    "disabled": "warning",
    "retired": "muted",
    "superseded": "muted",
}


@register.inclusion_tag("portal/_state.html")
def state(value: str, label: str = "") -> dict:
    """``{% state job.status job.get_status_display %}``: a job's, certificate's or publication's state."""
    return {"level": STATE_LEVELS.get(value, "muted"), "text": label or value.replace("_", " "), "value": value}
