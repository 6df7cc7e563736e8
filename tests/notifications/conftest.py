"""Real receivers for notifications: an SMTP server (aiosmtpd) and an HTTP receiver, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.servers import HttpReceiver, SmtpServer


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server, with Django's e-mail settings pointing at it for the test."""
    with SmtpServer() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        yield server
