"""A small HTTP proxy on loopback that applies the egress rule, for child processes (certbot and its
plugins) whose HTTP stacks certmate cannot hook: requests, botocore and Go's net/http all honour
HTTPS_PROXY/HTTP_PROXY. It serves CONNECT (TLS tunnels) and absolute-URI plain HTTP, resolves each
destination once, checks every address and connects to the checked one; a refused destination gets a
403 whose reason names the host, and is remembered so the caller can report it.

One proxy per run: `with EgressProxy() as proxy: env.update(proxy.environment())`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from urllib.parse import urlsplit

from .connect import connect
from .rules import EgressRefused

HEAD_LIMIT = 16 * 1024
CONNECT_TIMEOUT = 15
IDLE_TIMEOUT = 300  # a tunnel with no traffic for this long is closed
_HOP_HEADERS = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")


class EgressProxy:
    def __init__(self) -> None:
        self.refusals: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.5)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._serve, name="certmate-egress-proxy", daemon=True)

    # --- lifecycle ---
    def __enter__(self) -> EgressProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        with self._lock:
            for sock in list(self._open):
                _close(sock)
        self._thread.join(timeout=2)

    def environment(self) -> dict[str, str]:
        """What a child process needs to send every HTTP(S) request through this proxy."""
        url = f"http://127.0.0.1:{self.port}"
        env = {name: url for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}
        env |= {"NO_PROXY": "", "no_proxy": ""}  # nothing bypasses it
        return env

    # --- serving ---
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _handle(self, client: socket.socket) -> None:
        self._track(client)
        upstream = None
        try:
            client.settimeout(CONNECT_TIMEOUT)
            head, rest = _read_head(client)
            method, target, version, headers = _parse(head)
            host, port, first = _destination(method, target, version, headers)
            try:
                upstream = connect((host, port), timeout=CONNECT_TIMEOUT)
            except EgressRefused as exc:
                self._refuse(client, str(exc))
                return
            except OSError:
                _answer(client, 502, f"{host}: could not connect")
                return
            self._track(upstream)
            if method == b"CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                upstream.sendall(first + rest)
            _relay(client, upstream, self._stop)
        except _BadRequest as exc:
            _answer(client, 400, str(exc))
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    with self._lock:
                        self._open.discard(sock)

    def _refuse(self, client: socket.socket, message: str) -> None:
        with self._lock:
            if message not in self.refusals:
                self.refusals.append(message)
        _answer(client, 403, message)


class _BadRequest(Exception):
    pass


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            raise _BadRequest("request head too large")
        chunk = sock.recv(4096)
        if not chunk:
            raise _BadRequest("connection closed before the request head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _parse(head: bytes) -> tuple[bytes, bytes, bytes, list[bytes]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise _BadRequest("not an HTTP request")
    return parts[0].upper(), parts[1], parts[2], lines[1:]


def _destination(method: bytes, target: bytes, version: bytes, headers: list[bytes]):
    """(host, port, the request head to send upstream) for a CONNECT or an absolute-URI request."""
    try:
        text = target.decode("ascii")
    except UnicodeDecodeError:
        raise _BadRequest("the target is not ASCII") from None
    try:  # urlsplit raises on a bad bracketed host as .port does on a bad port
        parts = urlsplit(f"//{text}" if method == b"CONNECT" else text)
        port = parts.port
    except ValueError:
        raise _BadRequest("bad host or port") from None
    if method == b"CONNECT":
        if not parts.hostname or port is None:
            raise _BadRequest("CONNECT needs host:port")
        return parts.hostname, port, b""
    port = port or 80
    if parts.scheme != "http" or not parts.hostname or parts.username is not None:
        raise _BadRequest("only CONNECT and absolute http:// requests are proxied")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = [line for line in headers if line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
    # One request per connection: a kept-alive connection would carry the next request to this host.
    head = b"\r\n".join([b" ".join([method, path.encode("ascii"), version]), *kept, b"Connection: close"])
    return parts.hostname, port, head + b"\r\n\r\n"


def _answer(sock: socket.socket, status: int, reason: str) -> None:
    # The reason phrase carries the message: clients report "Tunnel connection failed: 403 <reason>".
    phrase = " ".join(reason.split()).encode("ascii", "replace")[:400]
    body = phrase + b"\n"
    head = b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    with contextlib.suppress(OSError):
        sock.sendall(head % (status, phrase, len(body)) + body)


def _relay(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    for sock in (a, b):
        sock.settimeout(60)  # for sendall to a peer that stops reading; recv only follows readiness
    peer = {a: b, b: a}
    with selectors.DefaultSelector() as selector:
        selector.register(a, selectors.EVENT_READ)
        selector.register(b, selectors.EVENT_READ)
        idle = 0.0
        while not stop.is_set() and idle < IDLE_TIMEOUT:
            events = selector.select(timeout=1.0)
            idle = 0.0 if events else idle + 1.0
            for key, _ in events:
                data = key.fileobj.recv(65536)
                if not data:
                    return
                peer[key.fileobj].sendall(data)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
