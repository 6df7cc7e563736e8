"""More actions of ``manage.py tenant``, offered by apps above accounts (``tenant export``, ``tenant import``
come from apps.backups): accounts owns the command and never imports them; they register here when loaded."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TenantAction:
    name: str
    help: str
    add_arguments: Callable[[ArgumentParser], None]
    # Called with the command (for its stdout) and the parsed options; raises CommandError to stop.
    handle: Callable[..., None]


_actions: dict[str, TenantAction] = {}


def tenant_action_register(action: TenantAction) -> None:
    _actions[action.name] = action


def tenant_actions() -> dict[str, TenantAction]:
    return dict(_actions)


def tenant_action_run(name: str, command: Any, options: dict[str, Any]) -> bool:
    """Run a registered action; False when ``name`` is none of them."""
    action = _actions.get(name)
    if action is None:
        return False
    action.handle(command, **options)
    return True
