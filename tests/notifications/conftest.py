"""Real receivers for notifications: an SMTP server (aiosmtpd) and an HTTP receiver, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from certmate.celery import app as celery_app
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


@pytest.fixture
def eager(monkeypatch, django_capture_on_commit_callbacks):
    """What is sent to Celery runs here and now; ``eager()`` is a block whose commit hooks run at its end
    (the test's transaction never commits)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
