"""A small ACME directory in front of Pebble, adding what Pebble 2.4 lacks: ARI (RFC 9773) and profiles.

    with AcmeStub(upstream=pebble, profiles={"shortlived": "6 days"}) as ca:
        ca.windows[cert_id] = (start, end)      # the window renewalInfo/<cert_id> answers
        ... certmate orders at ca.directory_url (trusting ca.ca_bundle) ...
        ca.orders[-1]["replaces"]               # what the last newOrder asked for (its JWS payload)

It serves HTTPS on a free port of 127.0.0.1 with a test CA of its own (``ca_bundle``, for the CA
account's trust bundle). ``/dir`` is Pebble's directory with ``renewalInfo`` and ``meta.profiles``
added; ``/renewal-info/<CertID>`` answers the window a test set (404 for others); everything else is
forwarded to Pebble with the request's Host kept: Pebble builds every URL it answers (and checks each
JWS's "url") from the Host it was asked on, so the client only ever sees the stub. newOrder payloads
are decoded (never verified) and kept. ``answers`` overrides any path (a key ending in "/": every
path under it) with a raw (status, body, headers) answer, for tests of what certmate does with a CA's
bad answers or refusals (``problem()`` makes an ACME problem's); ``answered`` lists the paths it
answered so. Without ``upstream`` it serves a directory of its own, for tests that need no orders.

Plain Python (no Django, no pytest), like servers.py.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import ssl
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Self

from tests.e2e.servers import LOOPBACK, Pebble, write_listener_cert

RENEWAL_INFO_PATH = "/renewal-info"
# Hop-by-hop headers, and the length the stub sets itself.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class AcmeStub:
    def __init__(
        self, *, upstream: Pebble | None = None, profiles: dict[str, str] | None = None, ari: bool = True
    ) -> None:
        self.upstream = upstream
        self.profiles = dict(profiles or {})
        self.ari = ari
        self.windows: dict[str, tuple[datetime, datetime]] = {}
        self.retry_after: str | None = None  # the Retry-After header of renewalInfo answers
        self.answers: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.answered: list[str] = []  # paths answered from ``answers``
        self.orders: list[dict] = []  # decoded newOrder payloads, in order
        self.asked: list[str] = []  # CertIDs renewalInfo was asked for
        self._folder = Path(tempfile.mkdtemp(prefix="certmate-acme-stub-"))
        self._server: http.server.ThreadingHTTPServer | None = None
        self._new_order_path: str | None = None

    # --- what tests use ---
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def directory_url(self) -> str:
        return f"{self.base_url}/dir"

    @property
    def renewal_info_url(self) -> str:
        return f"{self.base_url}{RENEWAL_INFO_PATH}"

    @property
    def ca_bundle(self) -> Path:
        """The CA of the stub's HTTPS certificate (what Pebble's ca_bundle is for Pebble)."""
        return self._folder / "listener-ca.pem"

    # --- lifecycle ---
    def start(self) -> Self:
        write_listener_cert(self._folder)
        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._folder / "listener-cert.pem", self._folder / "listener-key.pem")
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for path in self._folder.iterdir():
            path.unlink()
        self._folder.rmdir()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what the handler asks ---
    def directory(self, host: str) -> dict:
        if self.upstream is not None:
            body = self.forward("GET", "/dir", {"Host": host}, b"")[2]
            directory = json.loads(body)
        else:
            names = {"newNonce": "nonce", "newAccount": "account", "newOrder": "order", "revokeCert": "revoke"}
            directory = {key: f"https://{host}/{path}" for key, path in names.items()}
        if self.ari:
            directory["renewalInfo"] = f"https://{host}{RENEWAL_INFO_PATH}"
        if self.profiles:
            directory.setdefault("meta", {})["profiles"] = self.profiles
        return directory

    def answer_for(self, path: str) -> tuple[int, bytes, dict[str, str]] | None:
        under = (key for key in self.answers if key.endswith("/") and path.startswith(key))
        key = path if path in self.answers else next(under, None)
        if key is None:
            return None
        self.answered.append(path)
        return self.answers[key]

    def renewal_info(self, cert_id: str) -> tuple[int, bytes, dict[str, str]]:
        self.asked.append(cert_id)
        if cert_id not in self.windows:
            return 404, b'{"type": "urn:ietf:params:acme:error:malformed"}', {}
        start, end = self.windows[cert_id]
        body = json.dumps({"suggestedWindow": {"start": start.isoformat(), "end": end.isoformat()}}).encode()
        return 200, body, {"Retry-After": self.retry_after} if self.retry_after else {}

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        context = ssl.create_default_context(cafile=str(self.upstream.ca_bundle))
        connection = http.client.HTTPSConnection(LOOPBACK, self.upstream.port, context=context, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def new_order_path(self, host: str) -> str:
        if self._new_order_path is None:
            url = self.directory(host)["newOrder"]
            self._new_order_path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        return self._new_order_path

    def record_order(self, body: bytes) -> None:
        """A newOrder's JWS payload, decoded (not verified: Pebble does that)."""
        payload = json.loads(body)["payload"]
        self.orders.append(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def problem(status: int, kind: str, detail: str) -> tuple[int, bytes, dict[str, str]]:
    """A CA's ACME problem answer (RFC 8555 6.7), e.g. problem(429, "rateLimited", "too many ...")."""
    body = {"type": f"urn:ietf:params:acme:error:{kind}", "detail": detail, "status": status}
    return status, json.dumps(body).encode(), {"Content-Type": "application/problem+json"}


def _handler(stub: AcmeStub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as certbot's session expects

        def do_GET(self) -> None:
            self._answer("GET")

        def do_HEAD(self) -> None:
            self._answer("HEAD")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            host = self.headers.get("Host") or f"{LOOPBACK}:{stub.port}"
            path = self.path.split("?", 1)[0]
            answer = stub.answer_for(path)
            if answer is not None:
                self._send(*answer)
            elif method == "GET" and path == "/dir":
                self._send(200, json.dumps(stub.directory(host)).encode(), {"Content-Type": "application/json"})
            elif method == "GET" and path.startswith(RENEWAL_INFO_PATH + "/"):
                status, answer, headers = stub.renewal_info(path[len(RENEWAL_INFO_PATH) + 1 :])
                self._send(status, answer, {"Content-Type": "application/json", **headers})
            elif stub.upstream is None:
                self._send(404, b"", {})
            else:
                if method == "POST" and path == stub.new_order_path(host):
                    stub.record_order(body)
                headers = {name: value for name, value in self.headers.items() if name.lower() not in _NOT_FORWARDED}
                status, answer_headers, answer = stub.forward(method, self.path, headers, body)
                # A list: Pebble sends several Link headers (the chain's "up", its alternates).
                kept = [(name, value) for name, value in answer_headers if name.lower() not in _NOT_FORWARDED]
                self._send(status, answer, kept, head=method == "HEAD")

        def _send(self, status: int, body: bytes, headers, *, head: bool = False) -> None:
            self.send_response(status)
            for name, value in headers.items() if isinstance(headers, dict) else headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler
