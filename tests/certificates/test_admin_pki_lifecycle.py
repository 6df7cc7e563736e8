"""The private CA's lifecycle in the tenant admin: import a CA (a passphrase-protected key), an externally
signed intermediate (its CSR downloaded, signed by openssl as the outside root, uploaded), and the state
actions — each through ca-lifecycle's services (apps.certificates.pki.authorities), refusals at the form,
audit events on channel admin, the key never on a page. Skipped until those services are merged."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority
from certmate.audit.models import AuditEvent
from tests.certificates.test_admin_pki import CAS, HOST, _hierarchy, form_errors, sign_in
from tests.conftest import TENANT_A
from tests.pki.conftest import openssl

PASSPHRASE = "tr0ub4dor-and-3"
CA_EXTENSIONS = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"


@pytest.fixture
def admin_client(client, tenant_a):
    return sign_in(client, TENANT_A["admin_email"], HOST)


def outside_root(tmp_path, name: str = "outside") -> tuple[Path, Path]:
    """A root CA of the tenant's own, made by openssl: (certificate path, key path)."""
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
            "-out", str(cert), "-days", "3650", "-subj", f"/CN={name} root", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return cert, key


def test_an_admin_imports_a_ca_with_a_passphrase_protected_key(admin_client, tenant_a, tmp_path):
    cert, plain = outside_root(tmp_path)
    locked = tmp_path / "locked.key"
    openssl("pkey", "-in", str(plain), "-aes256", "-passout", f"pass:{PASSPHRASE}", "-out", str(locked))
    form = {"name": "legacy", "certificate_pem": cert.read_text(), "private_key_pem": locked.read_text(),
            "passphrase": PASSPHRASE, "chain_pem": ""}  # fmt: skip
    wrong = admin_client.post(f"{CAS}import/", {**form, "passphrase": "nope"}, headers=HOST)
    assert form_errors(wrong)
    assert "ENCRYPTED PRIVATE KEY" not in wrong.content.decode(), "a typed key is never shown back"
    response = admin_client.post(f"{CAS}import/", form, headers=HOST)
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        legacy = CertificateAuthority.objects.get(name="legacy")
        assert (legacy.origin, legacy.state) == ("imported", "active")
        event = AuditEvent.objects.get(action__startswith="certificate_authority.", object_name="legacy")
        assert (event.channel, event.actor_name) == ("admin", TENANT_A["admin_email"])
    page = admin_client.get(f"{CAS}{legacy.pk}/change/", headers=HOST).content.decode()
    assert "outside root" in page and "PRIVATE KEY" not in page


def test_an_externally_signed_intermediate_csr_then_upload(admin_client, tenant_a, tmp_path):
    response = admin_client.post(f"{CAS}external/", {"name": "partner", "common_name": "Partner Issuing",
                                                      "key_type": "ec256"}, headers=HOST)  # fmt: skip
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        partner = CertificateAuthority.objects.get(name="partner")
    assert partner.state == "pending" and partner.csr_pem
    page = admin_client.get(response["Location"], headers=HOST).content.decode()
    assert f"{CAS}{partner.pk}/csr/" in page and f"{CAS}{partner.pk}/upload/" in page
    download = admin_client.get(f"{CAS}{partner.pk}/csr/", headers=HOST)
    assert download["Content-Disposition"] == 'attachment; filename="partner.csr"'
    (tmp_path / "partner.csr").write_bytes(download.content)
    assert "CN=Partner Issuing" in openssl("req", "-in", str(tmp_path / "partner.csr"), "-noout", "-subject",
                                           "-nameopt", "compat", "-verify").stdout  # fmt: skip
    root_cert, root_key = outside_root(tmp_path)
    (tmp_path / "ext.cnf").write_text(CA_EXTENSIONS)
    signed = tmp_path / "partner.pem"
    openssl("x509", "-req", "-in", str(tmp_path / "partner.csr"), "-CA", str(root_cert), "-CAkey", str(root_key),
            "-CAcreateserial", "-days", "1000", "-extfile", str(tmp_path / "ext.cnf"), "-out", str(signed))  # fmt: skip
    # A certificate for another key is refused at the form.
    other_cert, _ = outside_root(tmp_path, "stranger")
    upload = f"{CAS}{partner.pk}/upload/"
    bad = admin_client.post(upload, {"certificate_pem": other_cert.read_text()}, headers=HOST)
    assert form_errors(bad)
    response = admin_client.post(upload, {"certificate_pem": signed.read_text(), "chain_pem": root_cert.read_text()},
                                 headers=HOST)  # fmt: skip
    assert response.status_code == 302, form_errors(response)
    with tenant_context(tenant_a):
        partner.refresh_from_db()
        channels = set(AuditEvent.objects.filter(object_name="partner").values_list("channel", flat=True))
    assert partner.state == "active" and partner.certificate_pem
    assert channels == {"admin"}
    assert admin_client.get(upload, headers=HOST).status_code == 404, "only a pending CA takes an upload"


@pytest.mark.parametrize(("action", "state"), [("disable", "disabled"), ("retire", "retired")])
def test_state_actions_go_through_the_service(admin_client, tenant_a, action, state):
    _root, alpha = _hierarchy(tenant_a, "alpha")
    response = admin_client.post(CAS, {"action": action, "_selected_action": [alpha.pk]}, headers=HOST, follow=True)
    assert response.status_code == 200
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.get(pk=alpha.pk).state == state
        event = AuditEvent.objects.filter(object_name="alpha").order_by("-id").first()
        assert event.channel == "admin" and state in str(event.changes)
    if state == "disabled":
        admin_client.post(CAS, {"action": "enable", "_selected_action": [alpha.pk]}, headers=HOST)
        with tenant_context(tenant_a):
            assert CertificateAuthority.objects.get(pk=alpha.pk).state == "active"


def test_make_default(admin_client, tenant_a):
    _root, alpha = _hierarchy(tenant_a, "alpha")
    _root, beta = _hierarchy(tenant_a, "beta")
    admin_client.post(CAS, {"action": "make_default", "_selected_action": [alpha.pk]}, headers=HOST)
    admin_client.post(CAS, {"action": "make_default", "_selected_action": [beta.pk]}, headers=HOST)
    with tenant_context(tenant_a):
        assert list(CertificateAuthority.objects.filter(is_default=True).values_list("name", flat=True)) == ["beta"]
    both = admin_client.post(CAS, {"action": "make_default", "_selected_action": [alpha.pk, beta.pk]}, headers=HOST,
                             follow=True)  # fmt: skip
    assert "Choose one CA" in both.content.decode()
