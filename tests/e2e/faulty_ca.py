"""An HTTPS front for a Pebble that answers one kind of ACME request with a CA's refusal (a rate limit, a
server error, a policy refusal): what Pebble cannot be made to say. Every other request is relayed to
Pebble as it came, Host header included, so Pebble's URLs and its check of each JWS's "url" name the
front; certbot talks to a real CA that now and then says no, as Let's Encrypt does.

    with FaultyCa(pebble, path="/order-plz", status=429, problem="rateLimited", detail="too many ...") as ca:
        ca.directory_url, ca.ca_bundle  # for the CA account
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e.servers import LOOPBACK, Pebble, write_listener_cert

_RELAYED_HEADERS = ("Content-Type", "Location", "Link", "Replay-Nonce", "Retry-After", "Cache-Control")


class FaultyCa:
    def __init__(self, pebble: Pebble, *, path: str, status: int, problem: str | None, detail: str = ""):
        """POSTs to URLs starting with ``path`` are answered ``status`` with the ACME problem ``problem``
        (urn:ietf:params:acme:error:<problem>) and ``detail``; None answers a bare HTML page."""
        self.pebble, self.path, self.status, self.problem, self.detail = pebble, path, status, problem, detail
        self.refused = 0
        self._folder = Path(tempfile.mkdtemp(prefix="certmate-faulty-ca-"))

    @property
    def directory_url(self) -> str:
        return f"https://{LOOPBACK}:{self._server.server_port}/dir"

    @property
    def ca_bundle(self) -> Path:
        return self._folder / "listener-ca.pem"

    def __enter__(self) -> FaultyCa:
        write_listener_cert(self._folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._folder / "listener-cert.pem", self._folder / "listener-key.pem")
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        self.refused += 1
        if self.problem is None:
            return self.status, {"Content-Type": "text/html"}, b"<html><body>Service Unavailable</body></html>"
        body = {"type": f"urn:ietf:params:acme:error:{self.problem}", "detail": self.detail, "status": self.status}
        return self.status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()

    def relay(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict[str, str], bytes]:
        context = ssl.create_default_context(cafile=str(self.pebble.ca_bundle))
        upstream = http.client.HTTPSConnection(LOOPBACK, self.pebble.port, context=context, timeout=30)
        try:
            forwarded = {name: value for name, value in headers.items() if name.lower() != "content-length"}
            upstream.request(method, path, body=body or None, headers=forwarded)
            response = upstream.getresponse()
            kept = {name: response.getheader(name) for name in _RELAYED_HEADERS if response.getheader(name)}
            return response.status, kept, response.read()
        finally:
            upstream.close()


def _handler(ca: FaultyCa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.command == "POST" and self.path.startswith(ca.path):
                status, headers, answer = ca.answer()
            else:
                status, headers, answer = ca.relay(self.command, self.path, self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        do_GET = do_HEAD = do_POST = _serve

        def log_message(self, *args) -> None:
            pass

    return Handler
