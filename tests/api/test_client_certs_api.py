"""CertMate's /api/client-certs: its shapes, its roles, two tenants kept apart, files that openssl reads,
and bad input answered 400 (never 500)."""

from __future__ import annotations

import re

import pytest
from cryptography.x509 import RFC822Name
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateAuthority, CertificateVersion
from certmate.audit.models import AuditEvent
from tests.pki.conftest import openssl
from tests.pki.test_issuing import make_csr

pytestmark = pytest.mark.django_db

CERTMATE_KEYS = {
    "type", "identifier", "common_name", "email", "organization", "organizational_unit", "cert_usage", "key_usage",
    "extended_key_usage", "created_at", "expires_at", "days_valid", "serial_number", "renewal_enabled",
    "renewal_threshold_days", "csr_required", "ca_used", "revoked", "revoked_at", "reason_revoked", "notes",
}  # fmt: skip
PASSWORD = "s3cret pfx"


def create(client, **body):
    response = client.post("/api/client-certs/create", {"common_name": "Alice Smith", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_certmate_shape_from_a_default_ca_made_on_first_use(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    with tenant_context(tenant_a):
        assert not CertificateAuthority.objects.exists()
    body = create(operator, email="alice@alpha.test", notes="laptop")
    metadata = body["metadata"]
    assert set(body) == {"identifier", "metadata"} and set(metadata) >= CERTMATE_KEYS
    assert re.fullmatch(r"alice-smith-[0-9a-f]{8}", body["identifier"]) and metadata["identifier"] == body["identifier"]
    assert (metadata["organization"], metadata["organizational_unit"], metadata["cert_usage"]) == (
        "CertMate", "Users", "api-mtls",
    )  # fmt: skip
    assert (metadata["type"], metadata["days_valid"], metadata["csr_required"], metadata["revoked"]) == (
        "client", 365, False, False,
    )  # fmt: skip
    assert metadata["extended_key_usage"] == ["clientAuth"] and "digitalSignature" in metadata["key_usage"]
    assert metadata["ca_used"] == "default" and metadata["revoked_at"] is None and metadata["notes"] == "laptop"
    with tenant_context(tenant_a):
        version = Certificate.objects.get(identifier=body["identifier"]).current_version
        assert metadata["serial_number"] == str(int(version.serial, 16))  # decimal, as CertMate writes it
        assert CertificateAuthority.objects.get(is_default=True).name == "default"
    assert "private" not in str(body).lower()  # no key in the answer


def test_roles_and_tenants(tenant_a, tenant_b, api_client):
    viewer, operator = api_client(tenant_a, "viewer"), api_client(tenant_a, "operator")
    identifier = create(operator)["identifier"]
    assert viewer.post("/api/client-certs/create", {"common_name": "x"}, format="json").status_code == 403
    assert viewer.post(f"/api/client-certs/{identifier}/renew", format="json").status_code == 403
    assert viewer.post("/api/client-certs/batch", {"headers": ["common_name"], "rows": [["x"]]},
                       format="json").status_code == 403  # fmt: skip
    assert viewer.get(f"/api/client-certs/{identifier}").json()["identifier"] == identifier
    assert viewer.get("/api/client-certs").json()["total"] == 1
    other = api_client(tenant_b, "admin")
    assert other.get(f"/api/client-certs/{identifier}").status_code == 404
    assert other.get(f"/api/client-certs/{identifier}/download/crt").status_code == 404
    assert other.post(f"/api/client-certs/{identifier}/renew", format="json").status_code == 404
    assert other.get("/api/client-certs").json() == {"certificates": [], "total": 0}
    assert other.get("/api/client-certs/stats").json()["ca_status"] == "not_loaded"
    assert operator.post(f"/api/client-certs/{identifier}/revoke", format="json").status_code == 403
    revoked = api_client(tenant_a, "admin").post(f"/api/client-certs/{identifier}/revoke", format="json")
    assert revoked.json() == {"message": f"Certificate revoked: {identifier}"}


def test_list_filters_and_stats(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    vpn = create(operator, common_name="Bob", cert_usage="vpn", organization="Ops")["identifier"]
    api = create(operator, common_name="Carol", email="carol@alpha.test")["identifier"]
    other = create(operator, common_name="Dave", cert_usage="user-auth")["identifier"]
    with tenant_context(tenant_a):
        CertificateVersion.objects.filter(certificate__identifier=other).update(
            revoked_at=timezone.now(), revocation_reason="superseded"
        )

    def listed(**query):
        body = operator.get("/api/client-certs", query).json()
        assert body["total"] == len(body["certificates"])
        return [row["identifier"] for row in body["certificates"]]

    assert listed() == [other, api, vpn]  # newest first
    assert listed(usage="vpn") == [vpn] and listed(usage="api-mtls") == [api] and listed(usage="user-auth") == [other]
    assert listed(search="CAROL@") == [api] and listed(search="bo") == [vpn]
    assert listed(revoked="true") == [other] and listed(revoked="false") == [api, vpn]
    revoked = operator.get(f"/api/client-certs/{other}").json()
    assert revoked["revoked"] is True and revoked["reason_revoked"] == "superseded" and revoked["revoked_at"]
    stats = operator.get("/api/client-certs/stats").json()
    assert stats == {
        "total": 3, "active": 2, "revoked": 1, "by_usage": {"vpn": 1, "api-mtls": 1},
        "by_organization": {"Ops": 1, "CertMate": 1}, "ca_status": "active",
    }  # fmt: skip


def test_downloads_by_role_and_openssl(tenant_a, api_client, tmp_path):
    viewer, operator = api_client(tenant_a, "viewer"), api_client(tenant_a, "operator")
    identifier = create(operator)["identifier"]
    url = f"/api/client-certs/{identifier}/download"
    crt = viewer.get(f"{url}/crt")
    assert crt.status_code == 200 and f'filename="{identifier}.crt"' in crt["Content-Disposition"]
    (tmp_path / "leaf.pem").write_bytes(crt.content)
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "leaf.pem")).stdout
    assert "TLS Web Client Authentication" in text
    for private in ("key", "pfx"):
        assert viewer.get(f"{url}/{private}", headers={"X-PFX-Password": PASSWORD}).status_code == 403
    key = operator.get(f"{url}/key")
    assert key.status_code == 200 and b"PRIVATE KEY" in key.content
    public = openssl("x509", "-noout", "-pubkey", "-in", str(tmp_path / "leaf.pem")).stdout
    assert openssl("pkey", "-pubout", input_text=key.content.decode()).stdout == public
    no_password = operator.get(f"{url}/pfx")
    assert no_password.status_code == 400 and no_password.json()["code"] == "pfx_password_required"
    assert operator.get(f"{url}/pfx", {"password": PASSWORD}).json()["code"] == "password_in_url"
    pfx = operator.get(f"{url}/pfx", headers={"X-PFX-Password": PASSWORD})
    assert pfx.status_code == 200 and pfx["Content-Type"] == "application/x-pkcs12"
    (tmp_path / "bundle.pfx").write_bytes(pfx.content)
    opened = openssl("pkcs12", "-in", str(tmp_path / "bundle.pfx"), "-passin", f"pass:{PASSWORD}", "-nodes")
    assert "BEGIN CERTIFICATE" in opened.stdout and "PRIVATE KEY" in opened.stdout
    wrong = openssl("pkcs12", "-in", str(tmp_path / "bundle.pfx"), "-passin", "pass:wrong", "-nodes", check=False)
    assert wrong.returncode != 0
    csr = viewer.get(f"{url}/csr")
    assert csr.status_code == 404 and "keeps no CSR" in csr.json()["error"]
    assert viewer.get(f"{url}/pem").status_code == 400
    with tenant_context(tenant_a):
        downloads = AuditEvent.objects.filter(action="private_key.downloaded", object_name=identifier)
        assert sorted(event.changes["format"] for event in downloads) == ["cert.pfx", "privkey.pem"]


def test_a_csr_based_certificate(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    missing = operator.post("/api/client-certs/create", {"common_name": "d", "generate_key": False}, format="json")
    assert missing.status_code == 400 and "CSR required" in missing.json()["error"]
    csr_pem, _ = make_csr("device-1", [RFC822Name("device-1@alpha.test")])
    body = create(operator, common_name="device-1", generate_key=False, csr=csr_pem)
    identifier = body["identifier"]
    assert body["metadata"]["csr_required"] is True
    url = f"/api/client-certs/{identifier}"
    assert operator.get(f"{url}/download/csr").content.decode().strip() == csr_pem.strip()
    assert operator.get(f"{url}/download/key").status_code == 404
    assert operator.get(f"{url}/download/pfx", headers={"X-PFX-Password": PASSWORD}).status_code == 404
    refused = operator.post(f"{url}/renew", format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "needs_csr"
    assert "client-supplied CSR" in refused.json()["error"]
    renewed = operator.post(f"{url}/renew", {"csr": make_csr("device-1", [])[0]}, format="json")
    assert renewed.status_code == 201 and renewed.json()["metadata"]["version"] == 2


def test_renew_signs_a_new_version_under_the_same_identifier(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    first = create(operator, days_valid=30)
    renewed = operator.post(f"/api/client-certs/{first['identifier']}/renew", format="json")
    assert renewed.status_code == 201
    body = renewed.json()
    assert body["identifier"] == first["identifier"] and body["metadata"]["version"] == 2
    assert body["metadata"]["serial_number"] != first["metadata"]["serial_number"]
    assert body["metadata"]["days_valid"] == 30


def test_batch(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    rows = [["Eve", "eve@alpha.test", "vpn", "90"], ["", "", "", ""], ["Frank", "not an address", "vpn", "x"],
            ["Grace", "", "", "99999"]]  # fmt: skip
    answer = operator.post("/api/client-certs/batch", {"headers": ["common_name", "email", "cert_usage", "days_valid"],
                                                        "rows": rows}, format="json")  # fmt: skip
    assert answer.status_code == 201
    result = answer.json()
    assert (result["total"], result["successful"], result["failed"]) == (4, 2, 2)
    assert [error["row"] for error in result["errors"]] == [3, 4]
    assert [row["common_name"] for row in result["certificates"]] == ["Eve", "Grace"]
    grace = operator.get(f"/api/client-certs/{result['certificates'][1]['identifier']}").json()
    assert grace["days_valid"] == 3650  # CertMate clamps a batch row's validity
    too_many = operator.post("/api/client-certs/batch", {"headers": ["common_name"], "rows": [["x"]] * 101},
                             format="json")  # fmt: skip
    assert too_many.status_code == 400 and "maximum of 100" in too_many.json()["error"]
    no_column = operator.post("/api/client-certs/batch", {"headers": ["email"], "rows": [["x"]]}, format="json")
    assert no_column.status_code == 400 and "common_name" in no_column.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"common_name": ""},
        {"common_name": "x" * 65},
        {"common_name": "tab\there"},
        {"common_name": ["a"]},
        {"common_name": "a", "days_valid": 0},
        {"common_name": "a", "days_valid": 3651},
        {"common_name": "a", "days_valid": "abc"},
        {"common_name": "a", "days_valid": "\u0661\u0660"},
        {"common_name": "a", "email": "x" * 255},
        {"common_name": "a", "email": "no-at-sign"},
        {"common_name": "a", "organization": "o" * 65},
        {"common_name": "a", "cert_usage": "u" * 41},
        {"common_name": "a", "generate_key": False, "csr": "not a csr"},
        {"common_name": "a", "generate_key": False, "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"},
        {"common_name": "a", "notes": "n" * 1001},
        ["a list"],
    ],
)
def test_bad_create_input_is_400(tenant_a, api_client, body):
    response = api_client(tenant_a, "operator").post("/api/client-certs/create", body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"error", "code"}


@pytest.mark.parametrize("identifier", ["a b", "..", "a..b", "-lead", "x" * 129, "a%00b", "a%2Fb", "\u00e9t\u00e9"])
def test_bad_identifiers_are_400(tenant_a, api_client, identifier):
    viewer = api_client(tenant_a, "viewer")
    for path in (f"/api/client-certs/{identifier}", f"/api/client-certs/{identifier}/download/crt"):
        response = viewer.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert response.json()["code"] in ("invalid", "not_found")
    assert viewer.get("/api/client-certs/a b").json()["error"] == "identifier: Invalid certificate identifier"
    assert viewer.get("/api/client-certs/unknown-1").status_code == 404


def test_bad_batch_input_is_400(tenant_a, api_client):
    operator = api_client(tenant_a, "operator")
    bodies = [
        {},
        {"headers": "common_name", "rows": []},
        {"headers": ["common_name"], "rows": [[{"a": 1}]]},
        {"headers": ["common_name"], "rows": "x"},
        {"headers": ["common_name"], "rows": [["a" * 1001]]},
        {"headers": ["common_name"] * 21, "rows": []},
    ]
    for body in bodies:
        response = operator.post("/api/client-certs/batch", body, format="json")
        assert response.status_code == 400, (body, response.content)
