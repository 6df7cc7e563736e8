"""Helpers for egress tests: loopback listeners that count the connections they accept."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

# Destinations every tenant-supplied host is tried with: loopback, the cloud metadata address, loopback
# spelled as IPv4-mapped IPv6, localhost, and this machine's own name, which /etc/hosts maps to 127.0.0.1:
# a name no validation can tell from a public one, refused when it is resolved.
LOOPBACK_NAME = socket.gethostname()
REFUSED_HOSTS = ("127.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]", "localhost", LOOPBACK_NAME)


def loopback_name_resolves_to_loopback() -> bool:
    return {info[4][0] for info in socket.getaddrinfo(LOOPBACK_NAME, 80)} <= {"127.0.0.1", "127.0.1.1", "::1"}


class Listener:
    """A TCP server on 127.0.0.1 that counts accepted connections and answers each with ``reply``."""

    def __init__(self, reply: bytes | Callable[[bytes], bytes] = b"") -> None:
        self.reply = reply
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.settimeout(2)
                try:
                    request = conn.recv(65536)
                    reply = self.reply(request) if callable(self.reply) else self.reply
                    if reply:
                        conn.sendall(reply)
                except OSError:
                    pass

    def url(self, host: str = "127.0.0.1", scheme: str = "http", path: str = "") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Trickle:
    """An HTTP server on loopback that answers its first connection one byte every ``interval`` seconds."""

    def __init__(self, body: bytes, interval: float) -> None:
        self.answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"." * 80 + b"\r\n\r\n"
        self.answer += body
        self.interval = interval
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            for byte in self.answer:
                if self._stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._server.close()


def http_reply(status: str = "200 OK", body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
