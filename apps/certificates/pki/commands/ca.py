"""``manage.py pki ca``."""

from __future__ import annotations


def register(subparsers) -> None:
    """Nothing yet."""
