"""Notifications follow certificate events and join the periodic sweep (expiry, digest, lost deliveries)."""

from __future__ import annotations


def register() -> None:
    """Called from the notifications app's ready(); the notify-core branch fills it in."""
