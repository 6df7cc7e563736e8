"""CertMate's GET /api/crl/download/<format> (pem | der | info): the default CA's CRL, unauthenticated like
CertMate's, throttled per address; each tenant's own; and a CA's CRL validity through PATCH /api/cas/{ca}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateVersion, RevocationList
from apps.certificates.pki.authorities import ca_default_set
from apps.certificates.pki.crl import crl_publish
from tests.api.pki_support import hierarchy_a, hierarchy_b, openssl
from tests.factories import TEST_ACTOR
from tests.pki.revoked_bulk import revoked_versions_create
from tests.pki.test_mtls import issue

__all__ = ["hierarchy_a", "hierarchy_b"]


@pytest.fixture
def default_a(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        return ca_default_set(authority=hierarchy_a[1], actor=TEST_ACTOR)


def test_pem_and_der_are_the_default_cas_crl_with_certmates_file_name(tenant_a, default_a, anon_client, tmp_path):
    anonymous = anon_client(tenant_a)
    pem, der = anonymous.get("/api/crl/download/pem"), anonymous.get("/api/crl/download/der")
    assert (pem.status_code, pem["Content-Type"]) == (200, "application/x-pem-file")
    assert (der.status_code, der["Content-Type"]) == (200, "application/pkix-crl")
    assert pem["Content-Disposition"] == der["Content-Disposition"] == 'attachment; filename="ca.crl"'
    assert x509.load_pem_x509_crl(pem.content) == x509.load_der_x509_crl(der.content)
    (tmp_path / "crl.der").write_bytes(der.content)
    (tmp_path / "ca.pem").write_text(default_a.certificate_pem)
    checked = openssl("crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"), "-CAfile", str(tmp_path / "ca.pem"),
                      "-noout")  # fmt: skip
    assert "verify OK" in checked.stderr + checked.stdout
    # The same CRL as /pki/alpha/crl.der, with the same validators.
    public = anonymous.get("/pki/alpha/crl.der")
    assert public.content == der.content and public["ETag"] == der["ETag"] and public["Expires"] == der["Expires"]
    assert anonymous.get("/api/crl/download/der", HTTP_IF_NONE_MATCH=der["ETag"]).status_code == 304


def test_info_in_certmates_shape_lists_the_revoked_serials(tenant_a, default_a, anon_client):
    version = issue(tenant_a, "alpha", "client", name="carol", subject={"common_name": "carol"})
    with tenant_context(tenant_a):
        revoked = revoked_versions_create(version, 3)
        crl_publish(authority=default_a)
    info = anon_client(tenant_a).get("/api/crl/download/info")
    assert info.status_code == 200
    body = info.json()
    assert set(body) == {"status", "issuer", "last_update", "next_update", "revoked_count", "revoked_serials"}
    assert (body["status"], body["issuer"], body["revoked_count"]) == ("available", "CN=Alpha CA,O=Alpha", 3)
    # Decimal strings, like client-certs' serial_number (160-bit numbers do not survive JSON numbers in JS).
    assert sorted(body["revoked_serials"]) == sorted(str(int(serial, 16)) for serial in revoked)
    with tenant_context(tenant_a):
        newest = RevocationList.objects.filter(authority=default_a).first()
    assert (
        body["last_update"] == newest.this_update.isoformat() and body["next_update"] == newest.next_update.isoformat()
    )


def test_without_a_default_ca_there_is_no_crl_and_none_is_made(tenant_a, hierarchy_a, anon_client):
    anonymous = anon_client(tenant_a)
    for format_type in ("pem", "der"):
        answer = anonymous.get(f"/api/crl/download/{format_type}")
        assert answer.status_code == 404 and answer.json() == {"error": "No CRL available", "code": "not_found"}
    info = anonymous.get("/api/crl/download/info")
    assert (info.status_code, info.json()) == (200, {"status": "no_crl", "message": "No CRL available"})
    with tenant_context(tenant_a):
        assert not RevocationList.objects.exists()
        assert not CertificateVersion.objects.exists()


def test_a_bad_format_is_a_400_that_does_not_echo_it(tenant_a, default_a, anon_client):
    for bad in ("xml", "PEM", "%3Cscript%3E", "der%00"):
        answer = anon_client(tenant_a).get(f"/api/crl/download/{bad}")
        assert answer.status_code == 400 and answer.json()["error"] == "Format must be 'pem', 'der', or 'info'"
    assert anon_client(tenant_a).post("/api/crl/download/pem").status_code == 405


def test_each_tenant_gets_its_own_default_cas_crl(tenant_a, tenant_b, default_a, hierarchy_b, anon_client):
    with tenant_context(tenant_b):
        ca_default_set(authority=hierarchy_b[1], actor=TEST_ACTOR)
    a = x509.load_der_x509_crl(anon_client(tenant_a).get("/api/crl/download/der").content)
    b = x509.load_der_x509_crl(anon_client(tenant_b).get("/api/crl/download/der").content)
    assert a.issuer.rfc4514_string() == "CN=Alpha CA,O=Alpha" and b.issuer.rfc4514_string() == "CN=Beta CA,O=Beta"


@override_settings(CERTMATE_API_RATE_ANON="3/min")
def test_it_is_throttled_per_address_whatever_token_is_sent(tenant_a, default_a, anon_client):
    anonymous = anon_client(tenant_a)
    for number in range(3):
        assert anonymous.get("/api/crl/download/der", HTTP_AUTHORIZATION=f"Bearer guess-{number}").status_code == 200
    assert anonymous.get("/api/crl/download/der", HTTP_AUTHORIZATION="Bearer another").status_code == 429


def test_admins_set_a_cas_crl_validity(tenant_a, hierarchy_a, api_client):
    admin, operator = api_client(tenant_a, "admin"), api_client(tenant_a, "operator")
    assert operator.patch("/api/cas/alpha", {"crl_validity_hours": 24}, format="json").status_code == 403
    for bad in (0, 8761, "a day", None):
        refused = admin.patch("/api/cas/alpha", {"crl_validity_hours": bad}, format="json")
        assert refused.status_code == 400 and "crl_validity_hours" in refused.json()["fields"], bad
    changed = admin.patch("/api/cas/alpha", {"crl_validity_hours": 24}, format="json")
    assert changed.status_code == 200 and changed.json()["crl_validity_hours"] == 24
    assert changed.json()["crl_number"] == 0
    crl = x509.load_der_x509_crl(api_client(tenant_a, "viewer").get("/pki/alpha/crl.der").content)
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=24)
    assert admin.get("/api/cas/alpha").json()["crl_number"] == 1
