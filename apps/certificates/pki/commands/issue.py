"""``manage.py pki issue``."""

from __future__ import annotations


def register(subparsers) -> None:
    """Nothing yet."""
