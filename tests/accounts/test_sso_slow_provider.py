"""A tenant's identity provider that answers a trickle at a time holds a web thread for the platform's
SSO timeout in all, not for as long as it keeps trickling (any anonymous visitor can start a sign-in)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from apps.accounts.models import SsoSettings
from apps.accounts.services.sso import SsoRefused
from apps.accounts.sso.provider import provider_metadata


class Trickle:
    """An HTTP server on loopback that sends its answer one byte every ``interval`` seconds."""

    BODY = b'{"issuer": "https://slow.test"}'
    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"." * 80 + b"\r\n\r\n" + BODY

    def __init__(self, interval: float) -> None:
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
            for byte in self.ANSWER:
                if self._stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def trickle():
    server = Trickle(interval=0.2)  # the whole answer takes about 30 s
    yield server
    server.close()


def test_a_trickling_provider_is_cut_at_the_sso_timeout(db, settings, trickle):
    settings.CERTMATE_SSO_TIMEOUT = 1
    # Plain HTTP so the trickle reaches the HTTP parser (an issuer must be https://, which only adds a
    # handshake that can trickle the same way).
    config = SsoSettings(enabled=True, issuer=f"http://127.0.0.1:{trickle.port}", client_id="c", client_secret="s")
    started = time.monotonic()
    with pytest.raises(SsoRefused, match="could not be reached"):
        provider_metadata(config)
    assert time.monotonic() - started < 3
