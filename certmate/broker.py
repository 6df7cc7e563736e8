"""kombu's filesystem transport (the broker of `make run` and the tests), with messages that appear whole.

kombu creates a message's ``.msg`` file and then writes into it, while a consumer takes any ``.msg``
file it sees: under load it can take one still empty, and the worker's consumer dies on it. Here a
message is written under a name consumers skip and renamed into place once complete (a rename within
one folder is atomic).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".part"  # consumers take "<time>_<id>.<queue>.msg" only


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self) -> dict:
        # Folders, not a host: without a default hostname kombu does not warn "No hostname was supplied.
        # Reverting to default 'localhost'" for each connection (each command that queues a job).
        return {"port": self.default_port}


def use_whole_message_transport() -> None:
    """Make ``filesystem://`` broker URLs use this transport."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
