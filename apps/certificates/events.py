"""Who listens to certificate events, and what runs with the periodic sweep: registered by the apps
that care (storage, notifications) from their AppConfig.ready, so apps.certificates never imports them.

A consumer has a name (its deliveries are recorded under it: never rename one that has deliveries)
and the kinds of event it takes. Its handler gets the event inside the transaction that records its
delivery: a handler that writes rows writes them exactly once in effect, and one that must reach
outside the database starts that on commit (``certmate.dispatch.dispatch_on_commit``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.certificates.models.events import EventKind

if TYPE_CHECKING:  # annotations only
    from apps.certificates.models import CertificateEvent

logger = logging.getLogger(__name__)
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class Consumer:
    name: str
    kinds: frozenset[str]
    handler: Callable[[CertificateEvent], None]


_consumers: dict[str, Consumer] = {}
_sweep_hooks: dict[str, Callable[[], object]] = {}
_minute_hooks: dict[str, Callable[[], object]] = {}


def consumer_register(name: str, *, kinds: Iterable[str], handler: Callable[[CertificateEvent], None]) -> Consumer:
    """Subscribe ``handler`` to events of ``kinds`` under ``name``; registering a name again replaces it."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"consumer name {name!r}: lowercase letters, digits, '.', '_' and '-', 100 at most")
    kinds = frozenset(kinds)
    unknown = kinds - set(EventKind.values)
    if not kinds or unknown:
        raise ValueError(f"consumer {name}: unknown event kinds {sorted(unknown)} (use {', '.join(EventKind.values)})")
    consumer = Consumer(name=name, kinds=kinds, handler=handler)
    _consumers[name] = consumer
    return consumer


def consumer_unregister(name: str) -> None:
    _consumers.pop(name, None)


def consumers_of(kind: str) -> list[Consumer]:
    """The consumers of ``kind``, in the order they registered."""
    return [consumer for consumer in _consumers.values() if kind in consumer.kinds]


def sweep_hook_register(name: str, hook: Callable[[], object]) -> None:
    """Run ``hook`` in each tenant's schema with the renewal sweep (say, to send lost retries again)."""
    _sweep_hooks[name] = hook


def minute_hook_register(name: str, hook: Callable[[], object]) -> None:
    """Run ``hook`` in each tenant's schema with the event sweep (every minute): cheap checks only, say
    for sends lost by a dead worker (an indexed query that usually finds nothing)."""
    _minute_hooks[name] = hook


def _hooks_run(hooks: dict[str, Callable[[], object]], what: str) -> None:
    """Each hook in turn; one that fails is logged and does not stop the others, nor the sweep."""
    for name, hook in list(hooks.items()):
        try:
            hook()
        except Exception:
            logger.exception("%s hook %s failed", what, name)


def sweep_hooks_run() -> None:
    _hooks_run(_sweep_hooks, "sweep")


def minute_hooks_run() -> None:
    _hooks_run(_minute_hooks, "event sweep")
