"""Web servers a CA's HTTP-01 validation reaches in end-to-end tests: certmate's own WSGI application in a
process of its own (on the test database, as a deployment's web process beside its workers), and a
plain static file server over a folder (the web server a webroot is written for)."""

from __future__ import annotations

import http.client
import os
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e.servers import LOOPBACK, _ManagedServer, free_port

ROOT = Path(__file__).resolve().parents[2]
# wsgiref with a thread per request: enough for a CA's few requests, and nothing to install.
_SERVE = """
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from certmate.wsgi import application


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


make_server("127.0.0.1", int(sys.argv[1]), application, server_class=Server, handler_class=Quiet).serve_forever()
"""


def http_get(port: int, host: str, path: str) -> tuple[int, bytes]:
    """(status, body) of a GET to 127.0.0.1:port with ``host`` as the Host header."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class CertmateWeb(_ManagedServer):
    """certmate.wsgi on a free loopback port, in a process of its own, on ``database_url``."""

    program = "certmate-web"

    def __init__(self, *, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.port = 0

    @staticmethod
    def missing_reason() -> str | None:
        return None

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        self.port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "certmate.settings.test",
            "DATABASE_URL": self.database_url,
            "PYTHONPATH": str(ROOT),
        }
        return [sys.executable, "-c", _SERVE, str(self.port)], env

    def _is_ready(self) -> bool:
        try:
            status, _ = http_get(self.port, "probe.test", "/.well-known/acme-challenge/probe")
        except OSError:
            return False
        return status == 404

    def _lost_port_race(self, log: str) -> bool:
        return "Address already in use" in log


class StaticSite:
    """A folder served over HTTP on a free loopback port, in a thread; ``requests`` lists (path, status)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[tuple[str, int]] = []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                site.requests.append((self.path, int(code) if isinstance(code, int) else 0))

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), partial(Handler, directory=str(folder)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
