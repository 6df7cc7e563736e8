"""Real BIND9 and Pebble for end-to-end tests, started once per session on free loopback ports.

Without named or pebble the tests skip with the reason (fail under CI=true, see tests.tools).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.servers import Bind9, Pebble, PebbleFactory
from tests.notifications.servers import SmtpServer
from tests.tools import missing_tool
from tests.worker import Worker, purge_broker


@pytest.fixture(scope="session")
def bind9() -> Iterator[Bind9]:
    reason = Bind9.missing_reason()
    if reason:
        missing_tool(reason)
    with Bind9() as server:
        yield server


@pytest.fixture(scope="session")
def pebble(bind9: Bind9) -> Iterator[Pebble]:
    """Pebble as shipped: it rejects 5% of good nonces, as real CAs now and then answer badNonce."""
    reason = Pebble.missing_reason()
    if reason:
        missing_tool(reason)
    with Pebble(dns_port=bind9.port, nonce_reject_percent=None) as server:
        yield server


@pytest.fixture(scope="session")
def pebble_factory(bind9: Bind9) -> Iterator[PebbleFactory]:
    """Starts more Pebbles with their own options (eab_keys=..., nonce_reject_percent=30, ...).

    Like `pebble`, each keeps Pebble's own 5% nonce rejection unless nonce_reject_percent is given, and
    resolves through the session's BIND9 unless dns_port is given. All stop at session end.
    """
    reason = Pebble.missing_reason()
    if reason:
        missing_tool(reason)
    with contextlib.ExitStack() as started:

        def start(**options: Any) -> Pebble:
            options.setdefault("dns_port", bind9.port)
            options.setdefault("nonce_reject_percent", None)
            return started.enter_context(Pebble(**options))

        yield start


def worker_env(smtp: SmtpServer) -> dict[str, str]:
    """A worker mailing through ``smtp`` and retrying a failed delivery a second later, not minutes."""
    return {
        "CERTMATE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "CERTMATE_NOTIFY_RETRY_BASE_SECONDS": "1",
        "CERTMATE_NOTIFY_RETRY_MAX_SECONDS": "2",
    }


@pytest.fixture(scope="session")
def smtp_receiver() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback for the session: tests tell their mail apart by recipient."""
    with SmtpServer() as server:
        yield server


def started_worker(django_db_blocker, tmp_path_factory, name: str, **options: Any) -> Iterator[Worker]:
    """A real worker of the module's own (``options`` as for tests.worker.Worker), on an empty broker."""
    with django_db_blocker.unblock():
        purge_broker()
        process = Worker(tmp_path_factory.mktemp(name) / "worker.log", **options).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def notify_worker(django_db_setup, django_db_blocker, tmp_path_factory, smtp_receiver) -> Iterator[Worker]:
    """A real worker that mails through ``smtp_receiver`` and retries deliveries within seconds."""
    yield from started_worker(django_db_blocker, tmp_path_factory, "notify-worker", extra_env=worker_env(smtp_receiver))


@pytest.fixture(scope="module")
def strict_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    """A worker with CERTMATE_EGRESS_ALLOW empty: loopback is refused there as in production."""
    yield from started_worker(
        django_db_blocker, tmp_path_factory, "strict-worker", concurrency=2, extra_env={"CERTMATE_EGRESS_ALLOW": ""}
    )
