"""/api/cas: admins create hierarchies, everyone reads CAs (never a key), tenants never see each other's
CAs, bad input is a 400 naming the field. Import, external signing and states follow ca-lifecycle's
services."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority
from tests.api.pki_support import (
    assert_no_private_key,
    field_named,
    hierarchy_a,
    hierarchy_b,
    make_csr,
    openssl,
)

__all__ = ["hierarchy_a", "hierarchy_b"]

GAMMA = {"name": "gamma", "common_name": "Gamma CA", "organization": "Gamma", "key_type": "ec256"}


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def test_an_admin_creates_a_hierarchy_and_a_viewer_reads_it(tenant_a, admin, api_client):
    created = admin.post("/api/cas", {**GAMMA, "name_constraints": {"permitted_dns": ["gamma.test"]}}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["origin"], body["parent"], body["state"]) == ("gamma", "intermediate", "gamma-root",
                                                                             "active")  # fmt: skip
    assert body["can_issue"] and body["path_length"] == 0 and body["csr_pem"] is None
    assert sorted(body["profiles"]) == ["client", "server", "server-and-client"]
    assert body["name_constraints"] == {"permitted_dns": ["gamma.test"]}
    assert body["subject"] == "CN=Gamma CA,O=Gamma" and len(body["fingerprint_sha256"]) == 64
    assert_no_private_key(created)

    viewer = api_client(tenant_a, "viewer")
    listed = viewer.get("/api/cas")
    assert [ca["name"] for ca in listed.json()] == ["gamma", "gamma-root"]
    assert_no_private_key(listed)
    root = viewer.get("/api/cas/gamma-root").json()
    assert (root["origin"], root["parent"], root["can_issue"], root["profiles"]) == ("root", None, False, [])
    assert viewer.get(f"/api/cas/{body['id']}").json()["name"] == "gamma"  # the id works too


def test_the_ca_certificate_is_served_as_pem_and_verifies(tenant_a, hierarchy_a, api_client, tmp_path):
    viewer = api_client(tenant_a, "viewer")
    response = viewer.get("/api/cas/alpha/certificate")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    assert_no_private_key(response)
    pems = x509.load_pem_x509_certificates(response.content)
    assert [c.subject.rfc4514_string() for c in pems] == ["CN=Alpha CA,O=Alpha", "CN=Alpha CA Root,O=Alpha"]
    (tmp_path / "root.pem").write_text(viewer.get("/api/cas/alpha-root/certificate").content.decode())
    (tmp_path / "alpha.pem").write_text(response.content.decode())
    assert openssl("verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "alpha.pem")).stdout.endswith("OK\n")


@pytest.mark.parametrize(("role", "expected"), [(None, 401), ("viewer", 403), ("operator", 403), ("admin", 201)])
def test_only_admins_create_cas(tenant_a, api_client, anon_client, role, expected):
    client = api_client(tenant_a, role) if role else anon_client(tenant_a)
    assert client.post("/api/cas", GAMMA, format="json").status_code == expected
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.count() == (2 if expected == 201 else 0)


@pytest.mark.parametrize(
    "path", ["/api/cas/import", "/api/cas/external", "/api/cas/alpha/upload", "/api/cas/alpha/disable",
             "/api/cas/alpha/enable", "/api/cas/alpha/retire", "/api/cas/alpha/default"],
)  # fmt: skip
def test_operators_change_no_ca(tenant_a, hierarchy_a, api_client, path):
    response = api_client(tenant_a, "operator").post(path, {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_a_taken_name_is_a_409(tenant_a, hierarchy_a, admin):
    for name in ("alpha", "alpha-root"):
        response = admin.post("/api/cas", {**GAMMA, "name": name}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "name_taken"), response.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GAMMA, "name": "bad name/"}, "name"),
        ({**GAMMA, "name": "x" * 81}, "name"),
        ({**GAMMA, "key_type": "dsa1024"}, "key_type"),
        ({**GAMMA, "key_type": ["ec256"]}, "key_type"),
        ({**GAMMA, "common_name": ""}, "common_name"),
        ({**GAMMA, "common_name": "C" * 65}, "common_name"),
        ({**GAMMA, "common_name": "bad\u0000cn"}, "common_name"),
        ({**GAMMA, "root_days": 0}, "root_days"),
        ({**GAMMA, "root_days": "ten"}, "root_days"),
        ({**GAMMA, "root_days": 100, "intermediate_days": 200}, "intermediate_days"),
        ({**GAMMA, "name_constraints": "gamma.test"}, "name_constraints"),
        ({**GAMMA, "name_constraints": {"permitted_dns": "gamma.test"}}, "name_constraints.permitted_dns"),
        ({**GAMMA, "name_constraints": {"permitted_dns": ["not a name!"]}}, "permitted_dns"),
        ({**GAMMA, "name_constraints": {"permitted_ip": ["10.0.0.1/8"]}}, "permitted_ip"),
        ({**GAMMA, "name_constraints": {"permitted_dns": ["x.test"] * 51}}, "name_constraints.permitted_dns"),
        ({"common_name": "No name"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(tenant_a, admin, body, field):
    response = admin.post("/api/cas", body, format="json")
    assert response.status_code == 400, response.content
    assert field_named(response, field), response.json()
    with tenant_context(tenant_a):
        assert not CertificateAuthority.objects.exists()


@pytest.mark.parametrize("body", [[], "gamma", 7, None, {"name": {"$ne": 1}}, {"name": ["gamma"]}])
def test_hostile_bodies_are_refused_not_crashed_on(tenant_a, admin, body):
    response = admin.post("/api/cas", body, format="json")
    assert response.status_code == 400, response.content


def test_another_tenants_ca_is_not_found(tenant_a, tenant_b, hierarchy_a, hierarchy_b, api_client):
    b_admin = api_client(tenant_b, "admin")
    assert [ca["name"] for ca in b_admin.get("/api/cas").json()] == ["beta", "beta-root"]
    for path in ("/api/cas/alpha", "/api/cas/alpha-root/certificate", "/api/cas/alpha/profiles"):
        response = b_admin.get(path)
        assert (response.status_code, response.json()) == (404, {"error": "not found: no such object here",
                                                                  "code": "not_found"}), path  # fmt: skip
    with tenant_context(tenant_a):
        alpha_id = CertificateAuthority.objects.get(name="alpha").pk
    assert b_admin.get(f"/api/cas/{alpha_id}").status_code in (200, 404)  # an id is per tenant: never A's row
    assert b_admin.get(f"/api/cas/{alpha_id}").json().get("name") != "alpha"
    for path in ("/api/cas/alpha/disable", "/api/cas/alpha/upload", "/api/cas/alpha/profiles"):
        assert b_admin.post(path, {"name": "x", "certificate_pem": "x"}, format="json").status_code == 404, path


# --- ca-lifecycle's services through the API -----------------------------


def test_an_imported_ca_never_shows_its_key(tenant_a, tenant_b, hierarchy_b, admin, tmp_path):
    with tenant_context(tenant_b):  # a CA made elsewhere, brought into tenant A
        source = CertificateAuthority.objects.get(name="beta")
        body = {"name": "imported", "certificate_pem": source.certificate_pem, "private_key_pem": source.private_key,
                "chain_pem": source.chain_pem}  # fmt: skip
    other_key = make_csr("x", [])[1]
    mismatched = other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()  # fmt: skip
    refused = admin.post("/api/cas/import", {**body, "name": "mismatch", "private_key_pem": mismatched}, format="json")
    assert refused.status_code == 400 and "PRIVATE KEY" not in refused.content.decode()
    response = admin.post("/api/cas/import", body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["origin"], response.json()["state"]) == ("imported", "active")
    assert_no_private_key(response)
    again = admin.post("/api/cas/import", {**body, "name": "imported-again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "exists"


def test_an_external_intermediate_answers_its_csr_then_takes_its_certificate(tenant_a, admin):
    started = admin.post("/api/cas/external", {"name": "ext", "common_name": "Ext CA"}, format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    assert (body["state"], body["origin"], body["can_issue"]) == ("pending", "external", False)
    csr = x509.load_pem_x509_csr(body["csr_pem"].encode())
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=Ext CA"
    assert_no_private_key(started)
    refused = admin.post("/api/cas/ext/upload", {"certificate_pem": "not a certificate"}, format="json")
    assert refused.status_code == 400


def test_disable_enable_retire(tenant_a, hierarchy_a, admin, api_client):
    assert admin.post("/api/cas/alpha/disable").json()["state"] == "disabled"
    operator = api_client(tenant_a, "operator")
    refused = operator.post("/api/certificates", {"issuer": "alpha", "domain": "x.alpha.test"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "ca_unavailable")
    assert admin.post("/api/cas/alpha/enable").json()["state"] == "active"
    assert admin.post("/api/cas/alpha/retire").json()["state"] == "retired"
    assert admin.post("/api/cas/alpha/default").status_code in (200, 400, 409)
