"""The embedded broker (kombu's filesystem transport) hands consumers whole messages only."""

from __future__ import annotations

import os

from kombu import Connection

from certmate.settings.base import filesystem_broker_options


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
