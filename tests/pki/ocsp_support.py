"""For the OCSP tests: certmate's web application on a real port of 127.0.0.1 (a threaded WSGI server in
the test process, its own database connections, so it sees committed rows only), two committed tenants
each with a CA hierarchy and client certificates written out as files for openssl, and the HTTP calls
an OCSP client makes."""

from __future__ import annotations

import contextlib
import http.client
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.services.tenants import tenant_create, tenant_delete
from apps.certificates.models import CertificateProfile, CertificateVersion
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.ocsp_signers import signers_forget
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.actors import Actor
from tests.factories import TEST_ACTOR
from tests.pki.tls import pem_blocks

TIMEOUT = 10
OCSP_REQUEST = "application/ocsp-request"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextlib.contextmanager
def live_server():
    """certmate's WSGI application on a free port of 127.0.0.1, one thread per request: its port."""
    server = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def http_call(port: int, host: str, method: str, path: str, body: bytes | None = None, headers=None):
    """(status, headers, body) of one request to 127.0.0.1:port with ``host`` as the Host header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        sent = {"Host": host, **({"Content-Type": OCSP_REQUEST} if body is not None else {}), **(headers or {})}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@dataclass(repr=False)
class TenantPki:
    """One committed tenant: its host, its hierarchy's files and its leaves (name -> version, file)."""

    tenant: object
    host: str
    folder: Path
    root: Path
    ca: Path
    root_and_ca: Path
    authority_id: int
    versions: dict[str, CertificateVersion] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<TenantPki {self.host}>"

    def issue(self, name: str) -> Path:
        with tenant_context(self.tenant):
            profile = CertificateProfile.objects.get(authority_id=self.authority_id, name="client")
            request = PrivateRequest(profile=profile, name=name, subject={"common_name": name})
            version = private_certificate_issue(request, actor=TEST_ACTOR).current_version
        self.versions[name] = version
        self.files[name] = self.folder / f"{name}.pem"
        self.files[name].write_text(version.certificate_pem)
        return self.files[name]

    def revoke(self, name: str, reason: str, *, invalidity_date=None) -> None:
        """Revoked as rev-services' private_version_revoke will record it: the version's fields set."""
        from django.utils import timezone

        with tenant_context(self.tenant):
            CertificateVersion.objects.filter(pk=self.versions[name].pk).update(
                revoked_at=timezone.now(), revocation_reason=reason, invalidity_date=invalidity_date
            )


def tenant_pki(folder: Path, name: str, key_type: str = "ec256") -> TenantPki:
    """A committed tenant (``<slug>.test``) with the hierarchy ``name`` under ``name``-root."""
    slug = f"o{uuid.uuid4().hex[:10]}"
    tenant = tenant_create(slug=slug, domain=f"{slug}.test", actor=Actor.command())
    with tenant_context(tenant):
        root, ca = ca_hierarchy_create(
            name=name, common_name=f"{name.title()} CA", organization=name.title(), key_type=key_type, actor=TEST_ACTOR
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for what, text in (("root", root.certificate_pem), ("ca", ca.certificate_pem)):
        paths[what] = folder / f"{name}-{what}.pem"
        paths[what].write_text(pem_blocks(text)[0])
    paths["root_and_ca"] = folder / f"{name}-root-and-ca.pem"
    paths["root_and_ca"].write_text(paths["root"].read_text() + paths["ca"].read_text())
    return TenantPki(tenant, f"{slug}.test", folder, authority_id=ca.pk, **paths)


@contextlib.contextmanager
def ocsp_world(django_db_blocker, folder: Path):
    """Two committed tenants (alpha, beta), each with a hierarchy and the client certificates alice,
    bob, carol (alpha's bob revoked for keyCompromise, carol on hold), and certmate serving on a port:
    (alpha, beta, port). Deleted afterwards with their schemas. For a module-scoped fixture."""
    made = []
    with django_db_blocker.unblock():
        try:
            alpha = tenant_pki(folder / "alpha", "alpha")
            made.append(alpha)
            beta = tenant_pki(folder / "beta", "beta")
            made.append(beta)
            for pki in (alpha, beta):
                for name in ("alice", "bob", "carol"):
                    pki.issue(name)
            alpha.revoke("bob", "keycompromise")
            alpha.revoke("carol", "certificatehold")
            connection.set_schema_to_public()
            signers_forget()
            with live_server() as port:
                yield alpha, beta, port
        finally:
            connection.set_schema_to_public()
            signers_forget()
            for pki in made:
                tenant_delete(slug=pki.tenant.schema_name)
