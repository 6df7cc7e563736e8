"""``manage.py pki batch``."""

from __future__ import annotations


def register(subparsers) -> None:
    """Nothing yet."""
