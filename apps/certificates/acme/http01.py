"""HTTP-01, the worker's side of an order. certbot's manual hooks (http01_hook.py) hand each challenge
over a Unix socket in the run's folder; a thread of the worker checks it against the order, publishes
it (into the public HttpChallenge table, which any web process answers from, or as a file in the
certificate's webroot), and only then lets the hook return. A challenge is withdrawn on certbot's
cleanup hook, and everything the run published is withdrawn when the run ends, whatever happened.

The rows are the running order's working state, like its output, not a setting anyone changes: they
are written without an audit event (the job that ran the order has its own), removed by the order or,
after a worker died mid-order, once expired (http_challenges_expire, from the event sweep).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from apps.accounts.models import Domain, HttpChallenge, Tenant
from apps.certificates.acme import http01_hook
from apps.certificates.acme.http01_hook import ACTIONS, SOCKET_VARIABLE, receive, send
from apps.certificates.acme.runner import CertbotError
from apps.certificates.acme.webroot import WebrootError, webroot_token_remove, webroot_token_write
from apps.certificates.models import Certificate

logger = logging.getLogger(__name__)
HOOK_SCRIPT = Path(http01_hook.__file__)
SOCKET_NAME = "hook.sock"
MAX_TOKEN = 128
TOKEN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_TOKEN}}}")
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of the account key's SHA-256 thumbprint
POLL_SECONDS = 0.2  # how soon the listener notices the run is over
READ_SECONDS = 10  # a hook sends its one message at once


def hook_args() -> list[str]:
    """certbot's arguments for HTTP-01 through the hooks: fixed platform text, nothing of the tenant's."""
    auth, cleanup = (shlex.join([sys.executable, "-I", str(HOOK_SCRIPT), action]) for action in ACTIONS)
    return [
        "--manual", "--preferred-challenges", "http-01", "--manual-auth-hook", auth, "--manual-cleanup-hook",
        cleanup, "--disable-hook-validation",
    ]  # fmt: skip


def key_authorization_problem(domain: object, token: object, validation: object, names: frozenset[str]) -> str:
    """Why a challenge the hook handed over is refused ("" when it is fine)."""
    if not isinstance(domain, str) or domain.lower() not in names:
        return "certbot handed over a challenge for a name that is not in this order: refused"
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return f"{domain}: the CA's HTTP-01 token is not base64url of at most {MAX_TOKEN} characters: refused"
    if not isinstance(validation, str) or not validation.startswith(token + "."):
        return f"{domain}: the key authorization does not start with the token: refused"
    if not _THUMBPRINT.fullmatch(validation[len(token) + 1 :]):
        return f"{domain}: the key authorization does not end with an account key thumbprint: refused"
    return ""


class _Refused(Exception):
    """A refusal found while publishing (its message is the reason)."""


class Http01Publisher:
    """One certificate's HTTP-01 side, for each certbot run of its order (``serving``). ``refusals`` holds
    why a challenge of the last run was not published (the order's failure reason when there is one)."""

    def __init__(self, *, tenant_id: int, names: list[str], webroot: str = "", webroot_root: str = ""):
        self.tenant_id = tenant_id
        self.names = frozenset(name.lower() for name in names)
        self.webroot, self.webroot_root = webroot, webroot_root
        self.refusals: list[str] = []
        self._published: dict[str, str] = {}  # token -> domain, what the running order has out

    @contextlib.contextmanager
    def serving(self, folder: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
        """Listen on a socket in ``folder`` for the length of the run: (certbot's arguments, environment)."""
        self.refusals = []
        folder.mkdir(mode=0o700)
        path = folder / SOCKET_NAME
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            path.chmod(0o600)  # the run folder goes to CERTMATE_CERTBOT_USER with what is in it
            listener.listen(16)
        except OSError as exc:
            listener.close()
            raise CertbotError(f"the HTTP-01 hook socket could not be opened at {path}: {exc.strerror}") from None
        listener.settimeout(POLL_SECONDS)
        over = threading.Event()
        thread = threading.Thread(target=self._serve, args=(listener, over), name="certmate-http01", daemon=True)
        thread.start()
        try:
            yield hook_args(), {SOCKET_VARIABLE: str(path)}
        finally:
            over.set()
            thread.join(timeout=READ_SECONDS + 30)
            listener.close()

    def _serve(self, listener: socket.socket, over: threading.Event) -> None:
        # A thread of its own with its own database connection (autocommit, public schema): what it
        # publishes is visible at once to every web process, whatever transaction the job holds.
        try:
            connection.set_schema_to_public()
            while not over.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    try:
                        self._answer(conn)
                    except Exception:  # one challenge's trouble (the database gone a moment) fails that hook only
                        logger.exception("HTTP-01 hook message not handled")
        finally:
            try:
                self._withdraw_all()
            finally:
                connection.close()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(READ_SECONDS)
        try:
            message = receive(conn)
        except (OSError, ValueError):
            return  # not a hook speaking: nothing is published, the hook (if any) reports it
        error = self.handle(message)
        with contextlib.suppress(OSError):
            send(conn, {"ok": not error, "error": error})

    def handle(self, message: dict) -> str:
        """Publish (auth) or withdraw (cleanup) one challenge; why not, or "" once done."""
        action, token = message.get("action"), message.get("token")
        if action == "cleanup":
            if isinstance(token, str) and token in self._published:
                self._withdraw(token)
            return ""
        if action != "auth":
            return self._refused("the hook asked for neither auth nor cleanup: refused")
        domain, validation = message.get("domain"), message.get("validation")
        problem = key_authorization_problem(domain, token, validation, self.names)
        if problem:
            return self._refused(problem)
        domain = domain.lower()
        try:
            if self.webroot:
                webroot_token_write(self.webroot, self.webroot_root, token, validation)
            else:
                self._publish_row(domain, token, validation)
        except _Refused as exc:
            return self._refused(str(exc))
        except WebrootError as exc:
            return self._refused(f"{domain}: the token could not be written into the webroot: {exc}")
        except DatabaseError:
            return self._refused(f"{domain}: the challenge could not be stored (database error): retry the order")
        self._published[token] = domain
        return ""

    def _publish_row(self, domain: str, token: str, validation: str) -> None:
        owner = host_owner(domain)
        if owner is not None and owner != self.tenant_id:
            # Another tenant's (or the platform's) host, or a name under it (a tenant's host still to come
            # under the platform's): answering for it would hand a certificate for it over.
            raise _Refused(f"{domain} is another tenant's host on this platform: certmate answers no challenge there")
        expires = timezone.now() + timedelta(seconds=settings.CERTMATE_HTTP01_TTL_SECONDS)
        try:
            HttpChallenge.objects.create(
                tenant_id=self.tenant_id, token=token, key_authorization=validation, domain=domain, expires_at=expires
            )
        except IntegrityError:
            raise _Refused(f"{domain}: the CA's token is published already: refused") from None

    def _refused(self, reason: str) -> str:
        self.refusals.append(reason)
        return reason

    def _withdraw(self, token: str) -> None:
        self._published.pop(token, None)
        if self.webroot:
            with contextlib.suppress(OSError, WebrootError):
                webroot_token_remove(self.webroot, self.webroot_root, token)
        else:
            HttpChallenge.objects.filter(tenant_id=self.tenant_id, token=token).delete()

    def _withdraw_all(self) -> None:
        for token in list(self._published):
            with contextlib.suppress(DatabaseError):
                self._withdraw(token)


def host_owner(domain: str) -> int | None:
    """The tenant whose host ``domain`` is, or lies under (the nearest such host decides), else None."""
    labels = domain.split(".")
    candidates = [".".join(labels[index:]) for index in range(len(labels))]
    hosts = dict(Domain.objects.filter(domain__in=candidates).values_list("domain", "tenant_id"))
    return next((hosts[name] for name in candidates if name in hosts), None)


def http01_publisher(certificate: Certificate, *, webroot_root: str = "") -> Http01Publisher:
    """The publisher of ``certificate``'s orders, in the current tenant's schema."""
    tenant_id = Tenant.objects.only("pk").get(schema_name=connection.schema_name).pk
    return Http01Publisher(
        tenant_id=tenant_id, names=certificate.names, webroot=certificate.webroot, webroot_root=webroot_root
    )


def http_challenges_expire() -> int:
    """Remove the challenges past their time (an order whose worker died left them); how many."""
    deleted, _ = HttpChallenge.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
