"""``manage.py pki profile``."""

from __future__ import annotations


def register(subparsers) -> None:
    """Nothing yet."""
