"""Real TLS for the private CA tests: an issued version written out as the files a TLS peer loads, a
Python ``ssl`` server and an ``openssl s_server`` each accepting one connection on a free port of
127.0.0.1, and a Python client. Every socket and process has a timeout and is stopped on exit."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.tools import find_program, missing_tool

TIMEOUT = 10  # seconds, for every connect, handshake, read and process wait
_END = "-----END CERTIFICATE-----\n"


def pem_blocks(text: str) -> list[str]:
    """The certificates of a PEM bundle, in order."""
    return [block.strip() + "\n" + _END for block in text.split(_END) if block.strip()]


@dataclass(frozen=True)
class Credentials:
    """What a TLS peer loads: its certificate followed by the intermediate (``chain``), the leaf alone
    (``leaf``), its key, and the anchors: the root alone, or the root with the intermediate."""

    chain: Path
    leaf: Path
    key: Path
    root: Path
    intermediate: Path
    root_and_intermediate: Path


def credentials_write(folder: Path, name: str, version, *, key_pem: str | None = None) -> Credentials:
    """Write ``version`` (a CertificateVersion; its chain is intermediate then root) as files under
    ``folder``. ``key_pem``: the key when certmate does not hold it (a CSR-based certificate)."""
    intermediate, root = pem_blocks(version.chain_pem)
    files = {
        "chain": version.certificate_pem + intermediate,
        "leaf": version.certificate_pem,
        "key": key_pem or version.private_key,
        "root": root,
        "intermediate": intermediate,
        "root_and_intermediate": root + intermediate,
    }
    paths = {}
    for field, text in files.items():
        paths[field] = folder / f"{name}-{field.replace('_', '-')}.pem"
        paths[field].write_text(text)
    return Credentials(**paths)


@dataclass
class Handshake:
    """How a server saw one connection: the client certificate's common name, or why it refused."""

    accepted: bool = False
    peer_common_name: str = ""
    version: str = ""
    reason: str = ""  # OpenSSL's reason, e.g. CERTIFICATE_VERIFY_FAILED
    verify_message: str = ""  # the X.509 error, e.g. "unable to get local issuer certificate"


def _common_name(peer: dict) -> str:
    for rdn in peer.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class PythonTlsServer:
    """A TLS server that requires a client certificate (``ssl.Purpose.CLIENT_AUTH``, CERT_REQUIRED)
    trusting ``cafile``; it serves one connection, says ``hello`` when the handshake passes, and records
    the outcome in ``.handshake``."""

    def __init__(self, *, cert_chain: Path, key: Path, cafile: Path):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(cafile))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(str(cert_chain), str(key))
        self.context = context
        self.handshake = Handshake()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(TIMEOUT)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> PythonTlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
        self._thread.join(TIMEOUT)

    def result(self) -> Handshake:
        """The outcome, once the connection is over (waits for the server thread)."""
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "the TLS server did not finish in time"
        return self.handshake

    def _serve(self) -> None:
        try:
            raw, _ = self._listener.accept()
        except OSError:
            return
        raw.settimeout(TIMEOUT)
        # A second handle on the connection outlives a failed handshake: the client's unread records
        # are drained before the close, else the kernel answers with a reset that can beat the alert.
        spare = raw.dup()
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                self.handshake.accepted = True
                self.handshake.peer_common_name = _common_name(tls.getpeercert())
                self.handshake.version = tls.version() or ""
                tls.sendall(b"hello\n")
                with contextlib.suppress(ssl.SSLError, OSError):
                    tls.unwrap()  # close_notify: OpenSSL 3 clients call a bare close an unexpected EOF
        except ssl.SSLCertVerificationError as error:
            self.handshake.reason, self.handshake.verify_message = error.reason, error.verify_message
        except (ssl.SSLError, OSError) as error:
            self.handshake.reason = getattr(error, "reason", None) or str(error)
        finally:
            with contextlib.suppress(OSError):
                while spare.recv(4096):
                    pass
            spare.close()
            raw.close()


def client_context(*, cafile: Path, cert_chain: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A client that verifies the server against ``cafile`` (hostname included) and shows ``cert_chain``."""
    context = ssl.create_default_context(cafile=str(cafile))
    if cert_chain is not None:
        context.load_cert_chain(str(cert_chain), str(key))
    return context


def tls_exchange(port: int, context: ssl.SSLContext, *, send: bytes = b"", hostname: str = "localhost") -> bytes:
    """Connect, handshake, send ``send``, and read until the server closes. Raises ssl.SSLError when a
    side refuses: with TLS 1.3 a refused client certificate shows only at this read, as the alert."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        if send:
            tls.sendall(send)
        received = b""
        while chunk := tls.recv(4096):
            received += chunk
        return received


def openssl_program() -> str:
    program = find_program("openssl")
    if program is None:
        missing_tool("openssl is not installed")
    return program


class OpensslServer:
    """``openssl s_server -Verify 2 -verify_return_error -www`` on a free port of 127.0.0.1 for one
    connection: it requires a client certificate and answers an HTTP GET with the session it saw.
    ``.output`` holds what it printed once stopped."""

    def __init__(self, *, cert: Path, key: Path, cafile: Path, chain: Path | None = None, extra: tuple = ()):
        self.args = [openssl_program(), "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-www",
                     "-cert", str(cert), "-key", str(key), "-CAfile", str(cafile),
                     "-Verify", "2", "-verify_return_error", *extra]  # fmt: skip
        if chain is not None:
            self.args += ["-cert_chain", str(chain)]
        self.output = ""
        self.port = 0

    def __enter__(self) -> OpensslServer:
        self._process = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._lines: list[str] = []
        self._listening = threading.Event()
        # A thread reads what it prints: waiting on a buffered pipe with select() can miss a line.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(TIMEOUT) or not self.port:
            self.__exit__()
            raise AssertionError(f"openssl s_server did not start: {self.output}")
        return self

    def _read(self) -> None:
        for line in self._process.stdout:
            self._lines.append(line)
            if found := re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line):
                self.port = int(found.group(1))
                self._listening.set()
        self._listening.set()

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        try:
            self._process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        self.output = "".join(self._lines)


def s_client(port: int, *args: str) -> subprocess.CompletedProcess:
    """``openssl s_client -verify_return_error`` to 127.0.0.1:``port``; it leaves once the handshake
    is done (stdin is empty). Returns the finished process (exit code 0: the server was trusted)."""
    return subprocess.run(
        [openssl_program(), "s_client", "-connect", f"127.0.0.1:{port}", "-verify_return_error", *args],
        input="", capture_output=True, text=True, timeout=TIMEOUT * 2,
    )  # fmt: skip
