"""A stand-in for a host a tenant chose (a CA, a storage target) that, whenever it is called, looks from a
connection of its own at the database session of the code calling it: a test proves with it that no
transaction stayed open (and no lock was held) while the remote host answered."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection, connections


@dataclass(frozen=True)
class Seen:
    path: str
    state: str  # pg_stat_activity.state of the watched session: "idle", or "idle in transaction"
    locks: int  # locks the watched session held (rows, tables, advisory)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.probe.look(self.path)
        body = b'{"errors": ["stand-in: not answering"]}'
        self.send_response(self.server.probe.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format, *args) -> None:
        pass


class TransactionProbe:
    """``with TransactionProbe() as probe: probe.watch(); <call the code>``; then ``probe.seen``."""

    def __init__(self, *, status: int = 503):
        self.status = status
        self.seen: list[Seen] = []
        self._pid: int | None = None

    def __enter__(self) -> TransactionProbe:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.probe = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def watch(self) -> None:
        """Watch this thread's database session (the one the code under test uses)."""
        connection.ensure_connection()
        self._pid = connection.connection.info.backend_pid

    def look(self, path: str) -> None:
        try:
            with connections["default"].cursor() as cursor:  # this server thread's own connection
                cursor.execute(
                    "SELECT a.state, (SELECT count(*) FROM pg_locks l WHERE l.pid = a.pid AND l.locktype <> "
                    "'virtualxid') FROM pg_stat_activity a WHERE a.pid = %s",
                    [self._pid],
                )
                state, locks = cursor.fetchone()
            self.seen.append(Seen(path, state, locks))
        finally:
            connections["default"].close()

    def assert_called_with_no_transaction_open(self) -> None:
        assert self.seen, "the stand-in was never called"
        held = [seen for seen in self.seen if seen.state != "idle" or seen.locks]
        assert not held, f"a transaction or lock was held while the remote host answered: {held}"
