"""CertMate's deploy and deployment-status rows: certmate's deploy publishes the current version to the
storage target at once (the local filesystem here, a real folder); deployment-status makes a real TLS
handshake to a server on loopback and compares what it serves."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading

import pytest
import trustme
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from certmate.audit.models import AuditEvent
from tests.factories import accounts, certificate_make

SUMMARY = {"ok", "total", "succeeded", "failed", "results"}
STATUS = {
    "domain", "deployed", "reachable", "certificate_match", "method", "port", "protocol", "timestamp",
    "probe_host", "probe_status", "mismatch_reason",
}  # fmt: skip


@pytest.fixture
def issued(tenant_a):
    with tenant_context(tenant_a):
        accounts()
        return certificate_make("www.alpha.test")


@pytest.fixture
def storage_root(settings, tmp_path):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    return settings.CERTMATE_STORAGE_ROOT


def test_deploy_publishes_the_current_version_now(tenant_a, api_client, issued, storage_root):
    response = api_client(tenant_a, "admin").post("/api/certificates/www.alpha.test/deploy")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SUMMARY and body["ok"] is True and (body["total"], body["succeeded"]) == (1, 1)
    assert body["results"][0]["success"] is True and body["results"][0]["state"] == "published"
    served = (storage_root / "alpha" / "server" / "www.alpha.test" / "cert.pem").read_text()
    assert served == issued.current_version.certificate_pem
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="certificate.deployed", object_name="www.alpha.test").count() == 1
    activity = api_client(tenant_a, "admin").get("/api/activity").json()["entries"]
    assert any(entry["operation"] == "deploy" for entry in activity)


def test_deploy_is_for_admins_and_hides_other_tenants(tenant_a, tenant_b, api_client, issued, storage_root):
    assert api_client(tenant_a, "operator").post("/api/certificates/www.alpha.test/deploy").status_code == 403
    assert api_client(tenant_b, "admin").post("/api/certificates/www.alpha.test/deploy").status_code == 404
    with tenant_context(tenant_a):
        certificate_make("new.alpha.test", versions=0)
    unissued = api_client(tenant_a, "admin").post("/api/certificates/new.alpha.test/deploy")
    assert unissued.status_code == 400 and unissued.json()["code"] == "no_version"


class TlsServer:
    """A TLS server on 127.0.0.1 presenting ``cert``/``key`` files to every handshake."""

    def __init__(self, cert_file, key_file):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.context = context
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(OSError, ssl.SSLError), self.context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def serving(tmp_path):
    servers = []

    def serve(cert_pem: str, key_pem: str) -> TlsServer:
        cert, key = tmp_path / f"c{len(servers)}.pem", tmp_path / f"k{len(servers)}.pem"
        cert.write_text(cert_pem)
        key.write_text(key_pem)
        servers.append(TlsServer(cert, key))
        return servers[-1]

    yield serve
    for server in servers:
        server.close()


def status_of(client, port: int, host: str = "127.0.0.1", domain: str = "www.alpha.test"):
    return client.get(f"/api/certificates/{domain}/deployment-status?host={host}&port={port}")


def test_deployment_status_matches_what_the_host_serves(tenant_a, api_client, issued, serving):
    with tenant_context(tenant_a):
        version = Certificate.objects.get(pk=issued.pk).current_version
        key = version.private_key
    viewer = api_client(tenant_a, "viewer")
    ours = serving(version.fullchain_pem, key)
    response = status_of(viewer, ours.port)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= STATUS and body["certificate_match"] is True and body["probe_status"] == "match"
    other = trustme.CA().issue_cert("www.alpha.test")
    theirs = serving(other.cert_chain_pems[0].bytes().decode(), other.private_key_pem.bytes().decode())
    mismatch = status_of(viewer, theirs.port).json()
    assert mismatch["reachable"] is True and mismatch["certificate_match"] is False
    assert (
        mismatch["probe_status"] == "mismatch" and mismatch["expected_fingerprint"] == version.fingerprint_sha256[:16]
    )


def test_deployment_status_unreachable_refused_and_wildcards(tenant_a, api_client, issued, settings):
    viewer = api_client(tenant_a, "viewer")
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    down = status_of(viewer, port).json()
    assert down["reachable"] is False and down["probe_status"] == "unreachable"
    settings.CERTMATE_EGRESS_ALLOW = []
    refused = status_of(viewer, port).json()
    assert refused["probe_status"] == "unreachable" and "CERTMATE_EGRESS_ALLOW" in refused["mismatch_reason"]
    with tenant_context(tenant_a):
        certificate_make("*.alpha.test")
    wildcard = viewer.get("/api/certificates/*.alpha.test/deployment-status").json()
    assert wildcard["probe_status"] == "unverifiable" and wildcard["probe_host"] is None


@pytest.mark.parametrize("query", ["?host=exa_mple..com", "?port=0", "?port=70000", "?host=" + "a" * 300])
def test_deployment_status_bad_input_is_400(tenant_a, api_client, issued, query):
    response = api_client(tenant_a, "viewer").get(f"/api/certificates/www.alpha.test/deployment-status{query}")
    assert response.status_code == 400


def test_deployment_status_of_another_tenants_certificate_is_404(tenant_b, api_client, issued):
    assert api_client(tenant_b, "viewer").get("/api/certificates/www.alpha.test/deployment-status").status_code == 404
