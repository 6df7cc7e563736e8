"""Consumers of certificate events for tests: each delivery writes a TaskRun row (tests.testapp) named
``<consumer>:<event id>`` in the schema it ran in, so a test counts what each consumer received."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

from apps.certificates.events import consumer_register, consumer_unregister
from apps.certificates.models import CertificateEvent, EventKind
from tests.testapp.models import TaskRun

ALL_KINDS = tuple(EventKind.values)


def label_of(consumer: str, event: CertificateEvent | int) -> str:
    return f"{consumer}:{getattr(event, 'pk', event)}"


def recording(consumer: str, *, kinds: Iterable[str] = ALL_KINDS, fail_times: int = 0) -> None:
    """Register ``consumer``: it records each event it gets; its first ``fail_times`` calls raise after
    writing their row (the row must go with the failed delivery)."""
    calls = {"failed": 0}

    def handle(event: CertificateEvent) -> None:
        TaskRun.objects.create(label=label_of(consumer, event), schema_seen=connection.schema_name)
        if calls["failed"] < fail_times:
            calls["failed"] += 1
            raise RuntimeError(f"{consumer} is down")

    consumer_register(consumer, kinds=kinds, handler=handle)


def received(consumer: str) -> list[str]:
    """What ``consumer`` recorded in the current schema, one label per delivery."""
    return sorted(TaskRun.objects.filter(label__startswith=f"{consumer}:").values_list("label", flat=True))


@contextmanager
def subscribed(**options) -> Iterator[str]:
    """A recording consumer of a name of its own (see ``recording``) while the block runs."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    recording(name, **options)
    try:
        yield name
    finally:
        consumer_unregister(name)
