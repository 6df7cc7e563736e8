"""A process for the event kill tests (tests/certificates/test_events.py), run on the test database:

    python -m tests.certificates.events_child <after-commit|in-consumer> <tenant> <prefix> <storage root>

It issues a version of ``<prefix>.example.com`` in the tenant (which records an ``issued`` event),
then stops where the test kills it with SIGKILL, printing where it stopped:

- after-commit: right after the commit, before anything processes the event (its processing is sent
  by a commit hook registered after this one's, so it is never sent);
- in-consumer: during processing, inside the second test consumer, after storage and the first test
  consumer have their deliveries committed.

What it sends to Celery runs here (eager), so nothing reaches a broker another test's worker reads.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import django


def _stop_here(where: str) -> None:
    print(where, flush=True)
    while True:
        time.sleep(60)


def main(mode: str, schema: str, prefix: str, storage_root: str) -> None:
    django.setup()
    from celery import current_app
    from django.conf import settings
    from django.db import transaction
    from django_tenants.utils import schema_context

    from apps.certificates.events import consumer_register
    from tests.certificates.event_consumers import recording
    from tests.factories import certificate_make

    settings.CERTMATE_STORAGE_ROOT = Path(storage_root)
    current_app.conf.task_always_eager = True
    recording(f"{prefix}-first")
    consumer_register(f"{prefix}-second", kinds=["issued"], handler=lambda event: _stop_here(f"in consumer {event.pk}"))
    with schema_context(schema):
        if mode == "after-commit":
            with transaction.atomic():
                transaction.on_commit(lambda: _stop_here("committed"))
                certificate_make(f"{prefix}.example.com", with_accounts=False)
        else:
            certificate_make(f"{prefix}.example.com", with_accounts=False)
    raise SystemExit("not stopped: the event was never processed")


if __name__ == "__main__":
    main(*sys.argv[1:5])
