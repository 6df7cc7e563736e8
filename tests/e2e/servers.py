"""Real Pebble (Let's Encrypt's test CA) and BIND9 (RFC 2136 DNS) servers for end-to-end tests.

Each server runs as a child process on 127.0.0.1, on free ports, in its own temporary folder, and
leaves nothing behind when stopped. No mocks: certbot (and certmate) talk ACME to a real CA that
validates DNS-01 challenges by querying a real authoritative name server.

    with Bind9() as dns, Pebble(dns_port=dns.port) as ca:
        result = run_bare_certbot(pebble=ca, bind9=dns, domains=["certmate.test"], workdir=path)

Plain Python with no Django or pytest imports, so benchmarks can use it too.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

LOOPBACK = "127.0.0.1"
# A lost race for a free port is retried with new ports; anything else fails at once.
_START_ATTEMPTS = 3
_STOP_TIMEOUT = 10.0
# named lives in sbin, which is often missing from a normal user's PATH.
_EXTRA_BIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin")


class ServerError(RuntimeError):
    """A test server could not be started, or did not become ready in time."""


class ToolMissingError(ServerError):
    """The server's program (or a Python package it needs) is not installed."""


class _PortTaken(ServerError):
    """Someone else bound the port between free_port() and the server's own bind."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _free_udp_and_tcp_port() -> int:
    # DNS needs the same number free for both protocols; the kernel only promises it for one.
    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
        return port


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return list(ports)


def _find_program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in _EXTRA_BIN_DIRS:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _python_package_missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the server when the test process dies.

    Finalizers do not run after kill -9, an OOM kill or os._exit (pytest-timeout's thread method),
    and an orphaned named or pebble would hold its port and temp folder until the machine reboots.
    The signal follows the *thread* that started the child, which is the main thread in pytest.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return hook


def _stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class _Resources:
    """What a server owns, kept apart from the server so a weakref finalizer can release it."""

    folder: Path
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    final_log: str = field(default="")

    def log_path(self) -> Path:
        return self.folder / "server.log"

    def stop_process(self) -> None:
        _stop_process(self.proc)
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def release(self) -> None:
        self.stop_process()
        if self.folder.exists():
            # Kept so a failing test can still print the log after teardown.
            self.final_log = self.log_path().read_text(errors="replace") if self.log_path().exists() else ""
            shutil.rmtree(self.folder, ignore_errors=True)


class _ManagedServer:
    """Start/stop plumbing shared by Bind9 and Pebble: temp folder, child process, log, readiness."""

    program = ""
    start_timeout = 20.0

    def __init__(self) -> None:
        reason = self.missing_reason()
        if reason:
            raise ToolMissingError(reason)
        self._binary = _find_program(self.program) or self.program
        self._res: _Resources | None = None
        self._finalizer: weakref.finalize | None = None

    @staticmethod
    def missing_reason() -> str | None:
        raise NotImplementedError

    # Subclasses: pick ports and write config into `folder`; return the command and its environment.
    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    # Subclasses: one cheap probe; True once the server answers.
    def _is_ready(self) -> bool:
        raise NotImplementedError

    # Subclasses: does this log say the server lost a port race?
    def _lost_port_race(self, log: str) -> bool:
        raise NotImplementedError

    @property
    def folder(self) -> Path:
        if self._res is None:
            raise ServerError(f"{type(self).__name__} is not started")
        return self._res.folder

    @property
    def running(self) -> bool:
        return self._res is not None and self._res.proc is not None and self._res.proc.poll() is None

    def start(self) -> Self:
        if self._finalizer is not None and self._finalizer.alive:
            return self
        self._res = _Resources(folder=Path(tempfile.mkdtemp(prefix=f"certmate-{self.program}-")))
        self._finalizer = weakref.finalize(self, self._res.release)
        try:
            for _attempt in range(_START_ATTEMPTS):
                try:
                    self._launch()
                    return self
                except _PortTaken:
                    self._res.stop_process()
            raise ServerError(f"{self.program} lost the race for a free port {_START_ATTEMPTS} times")
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        assert self._res is not None
        argv, env = self._prepare(self._res.folder)
        self._res.log = self._res.log_path().open("ab")
        self._res.proc = subprocess.Popen(
            argv,
            cwd=self._res.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._res.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._res.proc.poll() is not None:
                log = self.log_text()
                if self._lost_port_race(log):
                    raise _PortTaken(log)
                raise ServerError(f"{self.program} exited with {self._res.proc.returncode}:\n{_tail(log)}")
            if self._is_ready():
                return
            time.sleep(0.05)
        raise ServerError(f"{self.program} did not answer within {self.start_timeout:.0f}s:\n{_tail(self.log_text())}")

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _Resources.release once, and never again at exit
            self._finalizer = None

    def log_text(self) -> str:
        if self._res is None:
            return ""
        path = self._res.log_path()
        if path.exists():
            return path.read_text(errors="replace")
        return self._res.final_log

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------- BIND9


class Bind9(_ManagedServer):
    """An authoritative-only named serving test zones that accept TSIG-signed RFC 2136 TXT updates.

    `address`, `port`: where it answers (default: 127.0.0.1 on a free port). named listens only on the
    addresses of an interface, and loopback has 127.0.0.1 alone: for another loopback address
    (127.0.0.2, a second nameserver of a zone) named listens on 127.0.0.1 and a relay on the address
    passes every UDP and TCP message to it and back, untouched.
    `extra_records`: zone file lines added to every zone ("@ IN NS ns2", "ns2 IN A 127.0.0.2").
    `static`: the zones take no update, a copy that never sees a new record (a stale secondary).
    """

    program = "named"
    tsig_algorithm = "HMAC-SHA256"

    def __init__(
        self,
        zones: Sequence[str] = ("certmate.test",),
        *,
        tsig_name: str = "certmate-e2e-key",
        address: str = LOOPBACK,
        port: int = 0,
        extra_records: Sequence[str] = (),
        static: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(zones, str):
            zones = [zones]
        if not zones:
            raise ValueError("Bind9 needs at least one zone")
        self.zones: list[str] = [zone.rstrip(".").lower() for zone in zones]
        self.tsig_name = tsig_name
        # 256 bits, as tsig-keygen -a hmac-sha256 makes; no subprocess needed for a random string.
        self.tsig_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self.host = address
        self.port = port
        self._fixed_port = port
        self.extra_records = list(extra_records)
        self.static = static
        self._relay: _DnsRelay | None = None

    @staticmethod
    def missing_reason() -> str | None:
        if _find_program("named") is None:
            return "named is not installed (apt-get install bind9 bind9-dnsutils)"
        if _python_package_missing("dns"):
            return "dnspython is not installed (pip install dnspython; certbot-dns-rfc2136 depends on it)"
        return None

    def rfc2136_credentials(self) -> dict[str, str]:
        return {
            "dns_rfc2136_server": self.host,
            "dns_rfc2136_port": str(self.port),
            "dns_rfc2136_name": self.tsig_name,
            "dns_rfc2136_secret": self.tsig_secret,
            "dns_rfc2136_algorithm": self.tsig_algorithm,
        }

    def txt_records(self, name: str) -> list[str]:
        """The TXT strings named serves for `name` now (empty when there are none)."""
        import dns.message
        import dns.query
        import dns.rdatatype

        response = dns.query.udp(dns.message.make_query(name, "TXT"), self.host, port=self.port, timeout=2)
        return [
            b"".join(rdata.strings).decode()
            for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.TXT
            for rdata in rrset
        ]

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        self.port = self._fixed_port or _free_udp_and_tcp_port()
        self._named_port = self.port
        if self.host != LOOPBACK:
            self._named_port = _free_udp_and_tcp_port()
            self._stop_relay()
            self._relay = _DnsRelay((self.host, self.port), (LOOPBACK, self._named_port))
        for zone in self.zones:
            # Rewritten on every attempt: named may have started a journal for the old instance.
            (folder / f"{zone}.zone").write_text(_zone_file(zone, self.extra_records))
            (folder / f"{zone}.zone.jnl").unlink(missing_ok=True)
        conf = folder / "named.conf"
        conf.write_text(self._named_conf(folder))
        # -u <ourselves>: started as root, named would drop to the "bind" user, which cannot even enter
        # our 0700 temp folder to write zone journals. A non-root named ignores -u.
        argv = [self._binary, "-c", str(conf), "-g", "-u", _current_user(), "-4"]
        return argv, dict(os.environ)

    def stop(self) -> None:
        super().stop()
        self._stop_relay()

    def _stop_relay(self) -> None:
        if self._relay is not None:
            self._relay.close()
            self._relay = None

    def _named_conf(self, folder: Path) -> str:
        updates = "" if self.static else f'    update-policy {{ grant "{self.tsig_name}" zonesub TXT; }};\n'
        zones = "\n".join(
            f'zone "{zone}" {{\n    type primary;\n    file "{folder / f"{zone}.zone"}";\n{updates}}};'
            for zone in self.zones
        )
        # Every file named writes by default (pid, session key, managed keys, dumps) is moved into the
        # temp folder so instances do not collide with each other or with a system named.
        return f"""options {{
    directory "{folder}";
    pid-file "{folder / "named.pid"}";
    session-keyfile "{folder / "session.key"}";
    managed-keys-directory "{folder}";
    dump-file "{folder / "named_dump.db"}";
    statistics-file "{folder / "named.stats"}";
    listen-on port {self._named_port} {{ {LOOPBACK}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer {{ none; }};
}};

# No rndc channel: by default named opens 127.0.0.1:953, which two instances cannot share.
controls {{ }};

key "{self.tsig_name}" {{
    algorithm hmac-sha256;
    secret "{self.tsig_secret}";
}};

{zones}
"""

    def _is_ready(self) -> bool:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        # Zones load after the listener opens; ask for every SOA so no test sees SERVFAIL.
        for zone in self.zones:
            try:
                response = dns.query.udp(dns.message.make_query(zone, "SOA"), self.host, port=self.port, timeout=0.5)
            except (dns.exception.Timeout, OSError):
                return False
            if response.rcode() != dns.rcode.NOERROR or not response.answer:
                return False
        return True

    def _lost_port_race(self, log: str) -> bool:
        return "unable to listen on any configured interfaces" in log or "address in use" in log


def _zone_file(zone: str, extra_records: Sequence[str] = ()) -> str:
    # Short TTLs and negative-cache time: pebble must see a TXT record as soon as it is added.
    return f"""$TTL 60
@    IN SOA ns1.{zone}. hostmaster.{zone}. 1 60 60 3600 1
@    IN NS  ns1.{zone}.
ns1  IN A   {LOOPBACK}
; HTTP-01: every name under http.<zone> is this machine, where a test's web server answers.
*.http IN A {LOOPBACK}
""" + "".join(f"{line}\n" for line in extra_records)


class _DnsRelay:
    """Passes DNS messages from `listen` (UDP and TCP) to `target` and the answers back, one at a time."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.udp.bind(listen)
            self.tcp.bind(listen)
        except OSError as exc:
            self.close()
            raise ServerError(f"the DNS relay cannot listen on {listen[0]}:{listen[1]}: {exc}") from None
        self.tcp.listen(8)
        for serve in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=serve, daemon=True).start()

    def _serve_udp(self) -> None:
        while True:
            try:
                message, client = self.udp.recvfrom(65535)
            except OSError:
                return  # closed
            with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
                upstream.settimeout(2)
                upstream.sendto(message, self.target)
                self.udp.sendto(upstream.recv(65535), client)

    def _serve_tcp(self) -> None:
        while True:
            try:
                client, _ = self.tcp.accept()
            except OSError:
                return
            with contextlib.suppress(OSError), client, socket.create_connection(self.target, timeout=2) as upstream:
                client.settimeout(2)
                while message := _dns_tcp_message(client):
                    upstream.sendall(message)
                    client.sendall(_dns_tcp_message(upstream))

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _dns_tcp_message(sock: socket.socket) -> bytes:
    """One length-prefixed DNS message over TCP (prefix included); b"" when the peer closed."""
    data = b""
    while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
        chunk = sock.recv(65535)
        if not chunk:
            return b""
        data += chunk
    return data


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


# --------------------------------------------------------------------------------------------- Pebble


class Pebble(_ManagedServer):
    """Pebble, validating DNS-01 challenges against the given name server (normally a Bind9)."""

    program = "pebble"
    host = LOOPBACK

    def __init__(
        self,
        *,
        dns_port: int,
        eab_keys: Mapping[str, str] | None = None,
        nonce_reject_percent: int | None = 0,
        validity_seconds: int | None = None,
        extra_env: Mapping[str, str] | None = None,
        http_port: int = 5002,
    ) -> None:
        """`dns_port` is required so Pebble never falls back to the machine's real resolver.

        `nonce_reject_percent`: 0 (the default) never rejects a good nonce, for measurements that must
        not be disturbed; None leaves Pebble's own behaviour (5%, like real CAs' occasional badNonce).
        `eab_keys`: key id -> base64url HMAC key; when given, accounts need external account binding.
        `extra_env`: more PEBBLE_* settings, e.g. PEBBLE_CHAIN_LENGTH or PEBBLE_AUTHZREUSE.
        `http_port`: where Pebble asks for HTTP-01 challenges (a test's web server on a free port).
        """
        super().__init__()
        if nonce_reject_percent is not None and not 0 <= nonce_reject_percent <= 100:
            raise ValueError("nonce_reject_percent must be between 0 and 100")
        if extra_env and "PEBBLE_VA_ALWAYS_VALID" in extra_env:
            # Skipping validation would make every DNS-01 test pass without touching DNS.
            raise ValueError("PEBBLE_VA_ALWAYS_VALID is not allowed: tests must validate challenges for real")
        self.dns_port = dns_port
        self.eab_keys = dict(eab_keys) if eab_keys else None
        self.nonce_reject_percent = nonce_reject_percent
        self.validity_seconds = validity_seconds
        self.extra_env = dict(extra_env or {})
        self.http_port = http_port
        self.port = 0
        self.management_port = 0

    @staticmethod
    def missing_reason() -> str | None:
        if _find_program("pebble") is None:
            return "pebble is not installed (apt-get install pebble)"
        if _python_package_missing("trustme"):
            return "trustme is not installed (pip install trustme), needed for Pebble's own TLS certificate"
        return None

    @property
    def directory_url(self) -> str:
        return f"https://{self.host}:{self.port}/dir"

    @property
    def management_url(self) -> str:
        return f"https://{self.host}:{self.management_port}"

    @property
    def ca_bundle(self) -> Path:
        """PEM of the CA that signed Pebble's own HTTPS certificate: REQUESTS_CA_BUNDLE for ACME clients.

        Not the CA that signs issued certificates: that is root_pem().
        """
        return self.folder / "listener-ca.pem"

    def directory(self) -> dict[str, object]:
        """The ACME directory (newAccount, newOrder, meta, ...), fetched with the listener's CA trusted."""
        return json.loads(_https_get(self.directory_url, self.ca_bundle))

    def root_pem(self) -> str:
        return self._management_get("/roots/0")

    def intermediate_pem(self) -> str:
        return self._management_get("/intermediates/0")

    def certificate_status(self, serial_hex: str) -> dict[str, object]:
        """What Pebble says of a certificate it issued: {"Status": "Valid" | "Revoked", "Reason": ...}."""
        return json.loads(self._management_get(f"/cert-status-by-serial/{serial_hex}"))

    def _management_get(self, path: str) -> str:
        return _https_get(self.management_url + path, self.ca_bundle).decode()

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        self._write_listener_cert(folder)
        self.port, self.management_port = _distinct_free_ports(2)
        conf = folder / "pebble-config.json"
        conf.write_text(json.dumps({"pebble": self._config(folder)}, indent=2))
        env = dict(os.environ)
        # A Pebble setting inherited from the developer's shell would silently change every test.
        for name in [name for name in env if name.startswith("PEBBLE_")]:
            del env[name]
        env["PEBBLE_VA_NOSLEEP"] = "1"
        if self.nonce_reject_percent is not None:
            env["PEBBLE_WFE_NONCEREJECT"] = str(self.nonce_reject_percent)
        env.update(self.extra_env)
        argv = [self._binary, "-config", str(conf), "-dnsserver", f"{LOOPBACK}:{self.dns_port}"]
        return argv, env

    def _config(self, folder: Path) -> dict[str, object]:
        config: dict[str, object] = {
            "listenAddress": f"{self.host}:{self.port}",
            "managementListenAddress": f"{self.host}:{self.management_port}",
            "certificate": str(folder / "listener-cert.pem"),
            "privateKey": str(folder / "listener-key.pem"),
            # Ports Pebble's validator dials for HTTP-01 (on the name's address) and TLS-ALPN-01.
            "httpPort": self.http_port,
            "tlsPort": 5001,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": self.eab_keys is not None,
        }
        if self.eab_keys is not None:
            config["externalAccountMACKeys"] = self.eab_keys
        if self.validity_seconds is not None:
            config["certificateValidityPeriod"] = self.validity_seconds
        return config

    def _write_listener_cert(self, folder: Path) -> None:
        write_listener_cert(folder)

    def _is_ready(self) -> bool:
        try:
            directory = json.loads(_https_get(self.directory_url, self.ca_bundle, timeout=1))
        except (OSError, ValueError):  # refused, TLS not up yet, or half-written reply
            return False
        return "newAccount" in directory

    def _lost_port_race(self, log: str) -> bool:
        return "address already in use" in log


# What the pebble_factory fixture returns: Pebble's keyword options in, a started Pebble out.
PebbleFactory = Callable[..., Pebble]


def write_listener_cert(folder: Path) -> None:
    """A test CA (listener-ca.pem) and its certificate for 127.0.0.1 and localhost (listener-cert.pem,
    listener-key.pem) in ``folder``, for a test server's HTTPS; kept when already there."""
    if (folder / "listener-ca.pem").exists():
        return
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert(LOOPBACK, "localhost")
    ca.cert_pem.write_to_path(str(folder / "listener-ca.pem"))
    leaf.private_key_pem.write_to_path(str(folder / "listener-key.pem"))
    (folder / "listener-cert.pem").write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))


def _https_get(url: str, ca_bundle: Path, *, timeout: float = 5) -> bytes:
    if not url.startswith("https://"):
        raise ValueError(f"refusing non-HTTPS URL {url!r}")
    # No proxies: a developer's HTTPS_PROXY must not capture requests for 127.0.0.1.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(ca_bundle))),
    )
    with opener.open(url, timeout=timeout) as response:
        return response.read()


# -------------------------------------------------------------------------------------- bare certbot


def certbot_binary() -> Path:
    """The certbot installed next to this interpreter, so tests never pick up a system certbot."""
    return Path(sys.executable).parent / "certbot"


def run_bare_certbot(
    *,
    pebble: Pebble,
    bind9: Bind9,
    domains: Sequence[str],
    key_type: str = "ecdsa",
    elliptic_curve: str | None = None,
    rsa_key_size: int | None = None,
    workdir: Path,
    propagation_seconds: int = 1,
    extra_env: Mapping[str, str] | None = None,
    email: str = "admin@certmate.test",
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """One `certbot certonly` DNS-01 order, as an operator would type it: the benchmark baseline.

    Certificates land in live_dir(workdir, domains[0]). The caller checks returncode.
    """
    if not domains:
        raise ValueError("run_bare_certbot needs at least one domain")
    binary = certbot_binary()
    if not binary.exists():
        raise ToolMissingError(f"certbot is not installed in {binary.parent} (pip install certbot certbot-dns-rfc2136)")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    credentials = _write_private_ini(workdir / "rfc2136.ini", bind9.rfc2136_credentials())
    argv = [
        str(binary),
        "certonly",
        "--non-interactive",
        "--agree-tos",
        "-m",
        email,
        "--server",
        pebble.directory_url,
        "--config-dir",
        str(workdir / "config"),
        "--work-dir",
        str(workdir / "work"),
        "--logs-dir",
        str(workdir / "logs"),
        "--dns-rfc2136",
        "--dns-rfc2136-credentials",
        str(credentials),
        "--dns-rfc2136-propagation-seconds",
        str(propagation_seconds),
        "--key-type",
        key_type,
    ]
    for domain in domains:
        argv += ["-d", domain]
    if elliptic_curve:
        argv += ["--elliptic-curve", elliptic_curve]
    if rsa_key_size:
        argv += ["--rsa-key-size", str(rsa_key_size)]
    env = dict(os.environ)
    env["REQUESTS_CA_BUNDLE"] = str(pebble.ca_bundle)
    # requests does not bypass a proxy for loopback by itself.
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY", ""), LOOPBACK, "localhost"]))
    env.update(extra_env or {})
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def live_dir(workdir: Path, cert_name: str) -> Path:
    """Where certbot keeps the current cert.pem/chain.pem/fullchain.pem/privkey.pem of a lineage."""
    return Path(workdir) / "config" / "live" / cert_name


def _write_private_ini(path: Path, values: Mapping[str, str]) -> Path:
    # certbot refuses (or warns about) credentials readable by others; create it 0600 from the start.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.writelines(f"{key} = {value}\n" for key, value in values.items())
    return path


__all__ = [
    "LOOPBACK",
    "Bind9",
    "Pebble",
    "PebbleFactory",
    "ServerError",
    "ToolMissingError",
    "certbot_binary",
    "free_port",
    "live_dir",
    "run_bare_certbot",
]
