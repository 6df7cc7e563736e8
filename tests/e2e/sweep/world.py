"""The secrets sweep's world: a tenant whose every secret is a marker, configured the way its users do
it (users and tokens through the services, everything else through the API as the tenant's admin), and
helpers that scan every answer on the way.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.e2e.sweep.markers import Leak, MarkerScanner

ROLES = (Role.ADMIN, Role.OPERATOR, Role.VIEWER)
PASSWORD_EXTRA = "+/ &%é"  # characters a form post, a URL or JSON would each encode in their own way


@dataclass
class TenantWorld:
    tenant: Any
    scanner: MarkerScanner
    leaks: list[Leak]
    passwords: dict[str, str] = field(default_factory=dict)  # role -> password
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token text
    clients: dict[str, APIClient] = field(default_factory=dict)  # role -> client with that role's token
    sso_secret: str = ""  # the single sign-on client secret (a marker), once configured

    @property
    def slug(self) -> str:
        return self.tenant.schema_name

    @property
    def host(self) -> str:
        return self.tenant.get_primary_domain().domain

    def email(self, role: str) -> str:
        return f"{role}@{self.host}"

    def add_people(self) -> None:
        """A user per role with a marker password, and a marker-free token text per role (registered)."""
        with tenant_context(self.tenant):
            for role in ROLES:
                password = self.scanner.secret(f"{self.slug} {role} password", "password", extra=PASSWORD_EXTRA)
                user = user_create(email=self.email(role), password=password, role=role, actor=Actor.command())
                _, token = token_create(user=user, role=role, name="sweep", actor=Actor.command())
                self.scanner.add(f"{self.slug} {role} token", token, kind="token")
                self.passwords[role], self.tokens[role] = password, token
                self.clients[role] = self.client(token)

    def client(self, token: str | None) -> APIClient:
        client = APIClient()
        client.defaults["HTTP_HOST"] = self.host
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    def call(self, role: str, method: str, path: str, body: dict | None = None, *, expect=(200, 201, 202)) -> Any:
        """One API call as ``role``; its answer is scanned (every answer is), its JSON returned."""
        response = getattr(self.clients[role], method)(path, body, format="json")
        where = f"{self.slug} {role} {method.upper()} {path} → {response.status_code}"
        self.leaks += self.scanner.scan(where, response.content)
        assert response.status_code in expect, (
            f"{method.upper()} {path}: {response.status_code} {self.scanner.mask(response.content)[:2000]}"
        )
        return response.json() if response.content else None

    def wait(self, job: dict, deadline: float) -> dict:
        """The job once finished, or as it is at ``deadline`` (a time.monotonic() value)."""
        while True:
            polled = self.call(Role.OPERATOR, "get", job["status_url"])
            if polled["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                return polled
            time.sleep(0.5)

    def register_stored_keys(self) -> None:
        """Register what certmate generated and keeps: the issued private keys and the ACME account keys."""
        from apps.certificates.models import CaAccount, CertificateVersion

        with tenant_context(self.tenant):
            for version in CertificateVersion.objects.select_related("certificate"):
                label = f"{self.slug} {version.certificate.identifier} v{version.number} private key"
                self.scanner.add_private_key(label, version.private_key)
            for account in CaAccount.objects.filter(acme_account__isnull=False):
                for path, content in account.acme_account.items():
                    if path.endswith("private_key.json"):
                        label = f"{self.slug} ACME account key of {account.name}"
                        self.scanner.add_private_key_object(label, jwk_private_key(content), kind="account key")


def jwk_private_key(text: str):
    """The private key in certbot's private_key.json (a JWK), as a cryptography key."""
    jwk = json.loads(text)

    def number(name: str) -> int:
        import base64

        raw = jwk[name]
        return int.from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), "big")

    if jwk["kty"] == "RSA":
        public = rsa.RSAPublicNumbers(number("e"), number("n"))
        private = rsa.RSAPrivateNumbers(
            number("p"), number("q"), number("d"), number("dp"), number("dq"), number("qi"), public
        )
        return private.private_key()
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[jwk["crv"]]
    return ec.derive_private_key(number("d"), curve)


class RecordingHandler(logging.Handler):
    """Every log record of this process while installed, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


class RecordingLogs:
    """Every logger at DEBUG for the duration (but those the settings pin higher), recorded."""

    LOGGERS = ("", "apps", "certmate", "tests", "celery", "django", "django_tenants")
    QUIET = ("django.template",)  # a DEBUG record with a traceback per missing template variable

    def __enter__(self) -> RecordingHandler:
        self.handler = RecordingHandler()
        self.levels = {name: logging.getLogger(name).level for name in (*self.LOGGERS, *self.QUIET)}
        for name in self.LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        for name in self.QUIET:
            logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger().addHandler(self.handler)
        return self.handler

    def __exit__(self, *exc) -> None:
        logging.getLogger().removeHandler(self.handler)
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)
