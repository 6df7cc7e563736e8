"""CertMate's POST /api/settings/test-ca-provider: presets checked as CertMate does; a directory URL of the
tenant's own fetched through the egress rule from a real HTTPS server on loopback (trustme's CA), its
answer judged by shape and never echoed."""

from __future__ import annotations

import http.server
import json
import ssl
import threading

import pytest
import trustme

from apps.certificates.acme import directory

EMAIL = {"email": "ops@alpha.test"}
DIRECTORY = {"newNonce": "https://x/nonce", "newAccount": "https://x/acct", "newOrder": "https://x/order"}


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


@pytest.fixture(scope="module")
def tls_ca():
    return trustme.CA()


@pytest.fixture
def https_server(tls_ca):
    """An HTTPS server on 127.0.0.1 answering ``server.answer`` (status, body) to every GET."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = server.answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.answer = (200, json.dumps(DIRECTORY).encode())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"https://127.0.0.1:{server.server_address[1]}/directory"
    yield server
    server.shutdown()
    server.server_close()


def test_presets_are_checked_like_certmate(operator):
    ok = operator.post("/api/settings/test-ca-provider", {"ca_provider": "letsencrypt", "config": EMAIL}, format="json")
    assert ok.status_code == 200
    assert ok.json() == {
        "success": True,
        "message": "Let's Encrypt configuration appears valid",
        "ca_provider": "letsencrypt",
        "directory_url": "https://acme-v02.api.letsencrypt.org/directory",
    }
    no_email = operator.post("/api/settings/test-ca-provider", {"ca_provider": "letsencrypt", "config": {}})
    assert no_email.status_code == 200 and no_email.json()["success"] is False
    no_eab = operator.post("/api/settings/test-ca-provider", {"ca_provider": "zerossl", "config": EMAIL}, format="json")
    assert no_eab.json()["success"] is False and "EAB" in no_eab.json()["message"]


def test_a_private_ca_directory_is_fetched_and_judged(operator, https_server, tls_ca):
    config = {**EMAIL, "acme_url": https_server.url, "ca_cert": tls_ca.cert_pem.bytes().decode()}
    body = {"ca_provider": "private_ca", "config": config}
    ok = operator.post("/api/settings/test-ca-provider", body, format="json").json()
    assert ok["success"] is True and ok["message"] == "ACME endpoint appears valid"
    https_server.answer = (200, b'{"hello": "<script>not a directory</script>"}')
    shaped = operator.post("/api/settings/test-ca-provider", body, format="json").json()
    assert shaped["success"] is False and "script" not in json.dumps(shaped)
    https_server.answer = (503, b"maintenance page text")
    down = operator.post("/api/settings/test-ca-provider", body, format="json").json()
    assert down == {**down, "success": False, "message": "ACME endpoint returned HTTP 503"}
    https_server.answer = (200, b"x" * (directory.MAX_DIRECTORY_BYTES + 10))
    assert operator.post("/api/settings/test-ca-provider", body, format="json").json()["success"] is False
    untrusted = operator.post(
        "/api/settings/test-ca-provider",
        {"ca_provider": "private_ca", "config": {**EMAIL, "acme_url": https_server.url}},
        format="json",
    ).json()
    assert untrusted["success"] is False and "SSL verification failed" in untrusted["message"]


def test_the_egress_rule_guards_the_fetch(operator, https_server, settings):
    settings.CERTMATE_EGRESS_ALLOW = []
    body = {"ca_provider": "custom", "config": {**EMAIL, "acme_url": https_server.url}}
    refused = operator.post("/api/settings/test-ca-provider", body, format="json")
    assert refused.status_code == 200 and refused.json()["success"] is False
    assert "CERTMATE_EGRESS_ALLOW" in refused.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"ca_provider": "nosuch", "config": EMAIL},
        {"config": EMAIL},
        {"ca_provider": "letsencrypt", "config": "text"},
        {"ca_provider": "letsencrypt", "config": {f"k{n}": "v" for n in range(30)}},
    ],
)
def test_bad_input_is_400(operator, body):
    assert operator.post("/api/settings/test-ca-provider", body, format="json").status_code == 400


def test_private_ca_needs_a_pem_and_an_https_url(operator):
    plain = operator.post(
        "/api/settings/test-ca-provider",
        {"ca_provider": "private_ca", "config": {**EMAIL, "acme_url": "http://ca.example/dir"}},
        format="json",
    ).json()
    assert plain["success"] is False
    bad_pem = operator.post(
        "/api/settings/test-ca-provider",
        {"ca_provider": "private_ca", "config": {**EMAIL, "acme_url": "https://127.0.0.1:1/d", "ca_cert": "nope"}},
        format="json",
    ).json()
    assert bad_pem["success"] is False and bad_pem["message"] == "CA certificate must be in PEM format"


def test_viewers_may_not_test(tenant_a, api_client):
    viewer = api_client(tenant_a, "viewer")
    assert (
        viewer.post("/api/settings/test-ca-provider", {"ca_provider": "letsencrypt", "config": EMAIL}).status_code
        == 403
    )
