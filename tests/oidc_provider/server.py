"""Start the test identity provider (django-oauth-toolkit with OpenID Connect) as a child process.

    with OidcProvider(users=[...], clients=[...]) as idp:
        idp.issuer, idp.ca_bundle, idp.signing_key

HTTPS on a free loopback port with a trustme CA, an RSA signing key generated here, SQLite in the
server's temporary folder. Users: {"username", "password", "email", "groups"}. Clients:
{"client_id", "client_secret", "redirect_uris"} (confidential, authorization code, consent skipped).
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.servers import (
    LOOPBACK,
    _https_get,
    _ManagedServer,
    _python_package_missing,
    free_port,
    write_listener_cert,
)

ROOT = Path(__file__).resolve().parents[2]


class OidcProvider(_ManagedServer):
    program = "oidc-provider"  # names its temporary folder; it runs as this interpreter
    start_timeout = 60.0  # migrations on a busy machine

    def __init__(self, *, users: list[dict[str, Any]], clients: list[dict[str, Any]]) -> None:
        super().__init__()
        self._binary = sys.executable
        self.users = users
        self.clients = clients
        self.port = 0
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @staticmethod
    def missing_reason() -> str | None:
        if _python_package_missing("oauth2_provider"):
            return "django-oauth-toolkit is not installed (requirements/dev.txt)"
        if _python_package_missing("trustme"):
            return "trustme is not installed (requirements/dev.txt)"
        return None

    @property
    def issuer(self) -> str:
        return f"https://{LOOPBACK}:{self.port}/o"

    @property
    def ca_bundle(self) -> Path:
        return self.folder / "listener-ca.pem"

    def signing_key_pem(self) -> bytes:
        return self.signing_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def _prepare(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        write_listener_cert(folder)
        (folder / "signing-key.pem").write_bytes(self.signing_key_pem())
        self.port = free_port()
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "secret_key": secrets.token_urlsafe(32),
            "database": str(folder / "idp.sqlite3"),
            "signing_key": str(folder / "signing-key.pem"),
            "tls_cert": str(folder / "listener-cert.pem"),
            "tls_key": str(folder / "listener-key.pem"),
            "users": self.users,
            "clients": self.clients,
        }
        (folder / "idp.json").write_text(json.dumps(config))
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(folder)}
        return [self._binary, "-m", "tests.oidc_provider.serve", str(folder / "idp.json")], env

    def _is_ready(self) -> bool:
        try:
            answer = _https_get(f"{self.issuer}/.well-known/openid-configuration", self.ca_bundle, timeout=1)
            document = json.loads(answer)
        except (OSError, ValueError):
            return False
        return document.get("issuer") == self.issuer

    def _lost_port_race(self, log: str) -> bool:
        return "Address already in use" in log
