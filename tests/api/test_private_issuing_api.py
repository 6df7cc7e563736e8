"""Issuing from a private CA through /api/certificates: operators issue (at once, 201), server-side keys
and CSRs, names that are not domains resolve in the paths, another tenant's CA cannot be named, bad
input is a 400 naming the field, no private key is ever answered, and what the API issued verifies
with openssl against the CA's root."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateVersion
from tests.api.pki_support import assert_no_private_key, field_named, hierarchy_a, hierarchy_b, make_csr, verify_chain

__all__ = ["hierarchy_a", "hierarchy_b"]

SERVER = {"issuer": "alpha", "domain": "db.alpha.test", "alt_names": ["IP:10.0.0.5"]}
ALICE = {"issuer": "alpha", "kind": "client", "name": "alice-laptop", "subject": {"common_name": "alice"},
         "alt_names": ["email:alice@alpha.test"]}  # fmt: skip


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


def leaf_of(tenant, identifier: str, kind: str = "server") -> CertificateVersion:
    with tenant_context(tenant):
        return Certificate.objects.get(kind=kind, identifier=identifier).current_version


def test_an_operator_issues_a_server_certificate_at_once(tenant_a, hierarchy_a, operator, tmp_path):
    response = operator.post("/api/certificates", SERVER, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["domain"], body["status"], body["exists"]) == ("server", "db.alpha.test", "active", True)
    assert (body["authority"], body["issued_by"], body["profile"], body["from_csr"]) == ("alpha", "alpha", "server",
                                                                                         False)  # fmt: skip
    assert body["alt_names"] == ["DNS:db.alpha.test", "IP:10.0.0.5"] and body["ca_account"] is None
    assert body["issuer"] == "CN=Alpha CA,O=Alpha"
    assert_no_private_key(response)
    version = leaf_of(tenant_a, "db.alpha.test")
    assert version.private_key  # made server-side and kept (encrypted), never answered
    assert verify_chain(tmp_path, operator, version.certificate_pem, ca="alpha", purpose="sslserver").endswith("OK")
    detail = operator.get("/api/certificates/db.alpha.test")
    assert detail.status_code == 200 and detail.json()["profile"] == "server"
    assert_no_private_key(detail)


def test_a_client_certificate_and_its_name_in_the_paths(tenant_a, hierarchy_a, operator, api_client, tmp_path):
    response = operator.post("/api/certificates", ALICE, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["profile"], response.json()["subject"]) == (
        "client", "client", {"common_name": "alice"})  # fmt: skip
    viewer = api_client(tenant_a, "viewer")
    assert viewer.get("/api/certificates/alice-laptop").json()["alt_names"] == ["email:alice@alpha.test"]
    listed = viewer.get("/api/certificates?kind=client").json()["certificates"]
    assert [(c["domain"], c["authority"]) for c in listed] == [("alice-laptop", "alpha")]
    assert_no_private_key(viewer.get("/api/certificates"))
    named = operator.post("/api/certificates", {**ALICE, "name": "alice@alpha.test"}, format="json")
    assert named.status_code == 201, named.content
    assert viewer.get("/api/certificates/alice@alpha.test").json()["domain"] == "alice@alpha.test"
    version = leaf_of(tenant_a, "alice-laptop", "client")
    assert verify_chain(tmp_path, viewer, version.certificate_pem, ca="alpha", purpose="sslclient").endswith("OK")


def test_a_server_and_a_client_certificate_may_share_a_name(tenant_a, hierarchy_a, operator):
    both = {"issuer": "alpha", "name": "shared.alpha.test", "domain": "shared.alpha.test"}
    assert operator.post("/api/certificates", both, format="json").status_code == 201
    assert operator.post("/api/certificates", {**both, "kind": "client"}, format="json").status_code == 201
    assert operator.get("/api/certificates/shared.alpha.test").json()["kind"] == "server"
    assert operator.get("/api/certificates/shared.alpha.test?kind=client").json()["kind"] == "client"
    assert operator.get("/api/certificates/shared.alpha.test?kind=server").json()["kind"] == "server"
    bad = operator.get("/api/certificates/shared.alpha.test?kind=ca")
    assert bad.status_code == 400 and "kind" in bad.json()["fields"]
    again = operator.post("/api/certificates", both, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "exists")


def test_a_csr_is_signed_and_its_key_stays_with_the_requester(tenant_a, hierarchy_a, operator, tmp_path):
    csr, key = make_csr("bob", [x509.RFC822Name("bob@alpha.test")])
    response = operator.post("/api/certificates", {"issuer": "alpha", "kind": "client", "name": "bob-phone",
                                                   "csr": csr}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert (response.json()["from_csr"], response.json()["alt_names"]) == (True, ["email:bob@alpha.test"])
    version = leaf_of(tenant_a, "bob-phone", "client")
    assert version.private_key == ""
    issued = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    assert issued.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)
    assert verify_chain(tmp_path, operator, version.certificate_pem, ca="alpha", purpose="sslclient").endswith("OK")


@pytest.mark.parametrize(
    "csr",
    ["garbage", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "x" * 20000],
)
def test_a_bad_csr_is_a_400_on_csr(tenant_a, hierarchy_a, operator, csr):
    response = operator.post("/api/certificates", {"issuer": "alpha", "kind": "client", "csr": csr}, format="json")
    assert response.status_code == 400 and "csr" in response.json()["fields"], response.content


def test_a_tampered_csr_is_refused(tenant_a, hierarchy_a, operator):
    csr, _ = make_csr("mallory", [x509.DNSName("a.alpha.test")])
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # flip a bit of the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    response = operator.post("/api/certificates", {"issuer": "alpha", "kind": "client", "csr": tampered}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_csr")


@pytest.mark.parametrize(("role", "expected"), [(None, 401), ("viewer", 403), ("operator", 201), ("admin", 201)])
def test_operators_issue_viewers_do_not(tenant_a, hierarchy_a, api_client, anon_client, role, expected):
    client = api_client(tenant_a, role) if role else anon_client(tenant_a)
    assert client.post("/api/certificates", SERVER, format="json").status_code == expected


def test_another_tenants_ca_cannot_be_named(tenant_a, tenant_b, hierarchy_a, hierarchy_b, api_client):
    b_operator = api_client(tenant_b, "operator")
    refused = b_operator.post("/api/certificates", SERVER, format="json")
    assert (refused.status_code, refused.json()["code"], list(refused.json()["fields"])) == (400, "unknown_issuer",
                                                                                             ["issuer"])  # fmt: skip
    assert b_operator.post("/api/certificates", {**SERVER, "issuer": "beta", "domain": "db.beta.test"},
                           format="json").status_code == 201  # fmt: skip
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert not Certificate.objects.filter(authority__name="alpha").exists()
    assert api_client(tenant_a, "viewer").get("/api/certificates/db.beta.test").status_code == 404


def test_an_acme_request_never_takes_over_a_private_certificate(tenant_a, hierarchy_a, operator):
    assert operator.post("/api/certificates", SERVER, format="json").status_code == 201
    for path in ("/api/certificates", "/api/certificates/create"):
        response = operator.post(path, {"domain": "db.alpha.test"}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "private_certificate"), response.content
        assert "private CA 'alpha'" in response.json()["error"]
    with tenant_context(tenant_a):
        assert Certificate.objects.get(identifier="db.alpha.test").authority.name == "alpha"


def test_certmates_create_endpoint_issues_privately_too(tenant_a, hierarchy_a, operator):
    response = operator.post("/api/certificates/create", SERVER, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["message"] == "Certificate created successfully for db.alpha.test"
    assert response.json()["job_id"] and response.json()["authority"] == "alpha"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": ""}, "issuer"),
        ({"issuer": "x" * 101}, "issuer"),
        ({"issuer": ["alpha"]}, "issuer"),
        ({"issuer": "nope"}, "issuer"),
        ({"profile": "nope"}, "profile"),
        ({"kind": "ca"}, "kind"),
        ({"name": "a/b"}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"subject": ["alice"]}, "subject"),
        ({"subject": {"serialNumber": "1"}}, "subject"),
        ({"subject": {"country": "Germany"}}, "subject.country"),
        ({"subject": {"common_name": "a\u0000b"}}, "subject.common_name"),
        ({"alt_names": "DNS:x.alpha.test"}, "alt_names"),
        ({"alt_names": ["DNS:bad..name"]}, "alt_names"),
        ({"alt_names": ["IP:999.1.1.1"]}, "alt_names"),
        ({"alt_names": [{"dns": "x"}]}, "alt_names.0"),
        ({"alt_names": ["DNS:a.alpha.test"] * 101}, "alt_names"),
        ({"san_domains": ["not a domain"]}, "san_domains.0"),
        ({"domain": "*.*.alpha.test"}, "domain"),
        ({"key_type": "dsa"}, "key_type"),
        ({"days": 0}, "days"),
        ({"days": "soon"}, "days"),
        ({"days": 10**12}, "days"),
        ({"renew_before_days": 9999}, "renew_before_days"),
        ({"auto_renew": "perhaps"}, "auto_renew"),
        ({"usage": "u" * 41}, "usage"),
        ({"notes": "n" * 1001}, "notes"),
        ({"csr": 12}, "csr"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(tenant_a, hierarchy_a, operator, change, field):
    response = operator.post("/api/certificates", {**SERVER, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field_named(response, field), response.json()
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()


@pytest.mark.parametrize("body", [{"issuer": None}, {"issuer": {"$gt": ""}}, {"issuer": "alpha", "subject": "x"},
                                  {"issuer": "alpha", "alt_names": None}, {"issuer": "alpha"}])  # fmt: skip
def test_hostile_bodies_answer_4xx(tenant_a, hierarchy_a, operator, body):
    response = operator.post("/api/certificates", body, format="json")
    assert 400 <= response.status_code < 500, response.content
