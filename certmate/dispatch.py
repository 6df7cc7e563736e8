"""Handing work to Celery once the transaction that asked for it commits.

Services never import task modules (that would tie services and tasks into a cycle): they dispatch
a task by its registered name. The tenant's schema is captured when the work is asked for, since the
commit may come after the caller has left the tenant; the worker then runs the task in that schema.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django_tenants.utils import schema_context

logger = logging.getLogger(__name__)


def dispatch_on_commit(
    task_name: str, args: Sequence[Any] = (), *, countdown: float = 0, robust: bool = True, **options: Any
) -> None:
    """Send ``task_name`` with ``args`` after the current transaction commits (at once outside one),
    from the current tenant's schema.

    Robust by default: a broker that is down is logged and does not break the caller's other commit
    hooks, nor the write that was already committed. Whatever was dispatched must therefore also be
    found again by a sweep (a queued job, a pending publication, an unprocessed event).
    """
    schema = connection.schema_name
    args = list(args)

    def send() -> None:
        with schema_context(schema):
            if current_app.conf.task_always_eager:  # Celery's eager mode runs the task here and now
                current_app.loader.import_default_modules()  # the task modules, found as a worker finds them
                current_app.tasks[task_name].apply(args)
            else:
                current_app.send_task(task_name, args=args, countdown=max(0.0, countdown), **options)

    def send_logged() -> None:
        try:
            send()
        except Exception as exc:  # a lost dispatch is found again by its sweep
            logger.warning("could not send %s%r in %s (its sweep will pick it up): %s", task_name, args, schema, exc)

    transaction.on_commit(send_logged if robust else send)
