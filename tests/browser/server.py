"""certmate's WSGI application on a loopback port, in a thread of the test process, for a real browser.

Each request runs in a thread of its own with its own database connection (closed after the
request), so the server sees committed rows only: tests that drive it use committed tenants and
data (the ``live_db`` fixture), never pytest-django's transactional ``live_server`` (its flush would
empty the tenant table). The tenant is picked by the Host header as in production (tenants of the browser
tests are on ``<slug>.localhost``, which Chromium resolves to loopback and trusts like https). Stop
it after the browser has closed: stopping waits for every open connection's thread.
"""

from __future__ import annotations

import threading

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(ThreadedWSGIServer):
    daemon_threads = False  # server_close() waits for the requests in flight (and their connections)
    block_on_close = True


class PortalServer:
    """``with PortalServer() as server: server.url_for(host, "/")``."""

    def __init__(self) -> None:
        self._server: ThreadedWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.server_address[1]

    def url_for(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> PortalServer:
        self._server = _Server(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
        self._server.set_app(get_wsgi_application())  # static files: WhiteNoise, as in production
        self._thread = threading.Thread(target=self._server.serve_forever, name="portal-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
