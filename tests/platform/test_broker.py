"""The embedded broker (kombu's filesystem transport) hands consumers whole messages only."""

from __future__ import annotations

import logging
import os
from io import StringIO

from django.core.management import call_command
from django_tenants.utils import tenant_context
from kombu import Connection

from certmate.celery import app as celery_app
from certmate.settings.base import filesystem_broker_options
from tests.factories import accounts


def test_a_message_is_visible_to_consumers_only_once_written_whole(tmp_path, monkeypatch):
    queue_folder = tmp_path / "queue"
    visible_while_writing = []
    replace = os.replace

    def spying_replace(source, destination):
        # What a consumer listing the folder would take at this moment: the .msg files.
        visible_while_writing.append([p.name for p in queue_folder.iterdir() if p.name.endswith(".msg")])
        replace(source, destination)

    monkeypatch.setattr("certmate.broker.os.replace", spying_replace)
    with Connection("filesystem://", transport_options=filesystem_broker_options(tmp_path)) as connection:
        assert type(connection.transport).__module__ == "certmate.broker"
        queue = connection.SimpleQueue("certmate-test")
        queue.put({"job": 42})
        message = queue.get(timeout=2)
        assert message.payload == {"job": 42}
        message.ack()
        queue.close()
    assert visible_while_writing == [[]]
    assert not [p for p in queue_folder.iterdir() if p.name.endswith(".part")]


def test_a_command_that_queues_a_job_prints_no_broker_warning(
    tenant_a, tmp_path, caplog, django_capture_on_commit_callbacks
):
    """kombu warned "No hostname was supplied. Reverting to default 'localhost'" on each new connection:
    once per command that queues a job (each is a new process, with new connections)."""
    with tenant_context(tenant_a):
        accounts()
    celery_app.close()  # new broker connections, as in a new `manage.py` process
    out = StringIO()
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("certificate", "issue", "queued.alpha.test", "--tenant", "alpha", stdout=out, stderr=out)
    assert callbacks, "the job was sent to the broker"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "hostname" not in caplog.text + out.getvalue()
    with (
        caplog.at_level(logging.DEBUG),
        Connection("filesystem://", transport_options=filesystem_broker_options(tmp_path)) as connection,
    ):
        connection.clone().close()
    assert "No hostname was supplied" not in caplog.text
