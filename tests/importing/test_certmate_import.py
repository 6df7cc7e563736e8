"""Importing the real CertMate 2.x fixture: certificates with every version, accounts, the private CA
and its client certificates, users, tokens that keep working, and a report that names every file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.certificates.models import Certificate, CertificateKind, TenantSettings
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.models import CertificateAuthority
from apps.importing.models import ImportedObject
from apps.importing.report import Outcome
from certmate.audit.models import AuditEvent
from tests.api.conftest import tenant_client
from tests.importing.conftest import DATA, run_import
from tests.pki.revocation_support import crl_entries, crl_text

pytestmark = pytest.mark.django_db


def _fingerprint(path: Path) -> str:
    return x509.load_pem_x509_certificate(path.read_bytes()).fingerprint(hashes.SHA256()).hex()


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest.update(f"{path.relative_to(root)}:{info.st_mode}:{info.st_mtime_ns}".encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_every_certificate_comes_with_all_its_versions_in_order(tenant_a, tokens):
    run_import(tenant_a)
    with tenant_context(tenant_a):
        servers = Certificate.objects.filter(kind=CertificateKind.SERVER)
        assert sorted(servers.values_list("identifier", flat=True)) == sorted(tokens["certificates"])
        for domain, made in tokens["certificates"].items():
            certificate = servers.get(identifier=domain)
            archive = DATA / "certificates" / domain / "archive" / domain
            expected = [_fingerprint(archive / f"cert{n}.pem") for n in range(1, made["renewals"] + 2)]
            versions = list(certificate.versions.order_by("number"))
            assert [v.fingerprint_sha256 for v in versions] == expected, domain
            assert certificate.current_version == versions[-1]
            for number, version in enumerate(versions, start=1):
                key = serialization.load_pem_private_key(version.private_key.encode(), None)
                cert = x509.load_pem_x509_certificate(version.certificate_pem.encode())
                assert key.public_key().public_numbers() == cert.public_key().public_numbers()
                assert version.chain_pem == (archive / f"chain{number}.pem").read_text()
            assert certificate.san_domains == made["request"].get("san_domains", [])
        alpha = servers.get(identifier="alpha.test")
        assert (alpha.dns_account.name, alpha.ca_account.name) == ("alpha", "private_ca-pebble")
        assert servers.get(identifier="eab.alpha.test").ca_account.has_eab
        assert servers.get(identifier="shop.beta.test").key_type == "rsa3072"
        assert servers.get(identifier="legacy.beta.test").auto_renew is False
        assert TenantSettings.load().renewal_threshold_days == 21


def test_accounts_keep_their_secrets_encrypted_and_out_of_the_report(tenant_a, tokens):
    report = run_import(tenant_a)
    secrets = [tokens["tsig"]["alpha.test"]["secret"], tokens["eab"]["hmac"], tokens["secret_key"]]
    with tenant_context(tenant_a):
        alpha = DnsAccount.objects.get(provider="rfc2136", name="alpha")
        assert alpha.credentials["tsig_secret"] == tokens["tsig"]["alpha.test"]["secret"]
        assert alpha.propagation_seconds == 2
        eab = CaAccount.objects.get(name="private_ca-pebble-eab")
        assert (eab.eab_kid, eab.eab_hmac_key) == (tokens["eab"]["kid"], tokens["eab"]["hmac"])
        assert eab.trust_bundle.startswith("-----BEGIN CERTIFICATE-----")
        with connection.cursor() as cursor:
            cursor.execute("SELECT credentials::text FROM accounts_dnsaccount UNION ALL "
                           "SELECT eab_hmac_key FROM accounts_caaccount")  # fmt: skip
            stored = " ".join(str(row[0]) for row in cursor.fetchall())
        audit = " ".join(str(e.changes) for e in AuditEvent.objects.all())
    for secret in secrets:
        assert secret not in stored
        assert secret not in report.as_json()
        assert secret not in audit


def test_private_ca_and_client_certificates_come_over_with_the_revocation(tenant_a, tokens, tmp_path):
    run_import(tenant_a)
    with tenant_context(tenant_a):
        authority = CertificateAuthority.objects.get(name="certmate")
        assert authority.fingerprint_sha256 == _fingerprint(DATA / "data" / "certs" / "ca" / "ca.crt")
        clients = Certificate.objects.filter(kind=CertificateKind.CLIENT)
        for made in tokens["client_certificates"].values():
            # A renewal in CertMate is a new identifier: here it is the next version of the same certificate.
            issued = [made["created"], *([made["renewed"]] if made.get("renewed") else [])]
            certificate = clients.get(identifier=issued[-1]["identifier"])
            versions = list(certificate.versions.order_by("number"))
            assert [int(v.serial, 16) for v in versions] == [int(i["metadata"]["serial_number"]) for i in issued]
            assert all(v.authority == authority and v.has_private_key for v in versions)
            assert certificate.authority == authority and certificate.usage == made["usage"]
            assert certificate.subject_fields["email"] == issued[-1]["metadata"]["email"]
        assert clients.count() == len(tokens["client_certificates"])
        carol = clients.get(identifier__startswith="carol").current_version
        assert carol.revoked_at is not None and carol.revocation_reason == "keycompromise"
        assert clients.exclude(pk=carol.certificate_id).filter(versions__revoked_at__isnull=False).count() == 0
        crl_publish(authority=authority)
        listed = crl_entries(crl_text(authority, tmp_path))  # openssl checks the CRL's signature too
        assert list(listed) == [int(carol.serial, 16)] and "Key Compromise" in listed[int(carol.serial, 16)]


def _settings_users() -> dict:
    return json.loads((DATA / "data" / "settings.json").read_text())["users"]


def test_users_come_with_their_roles(tenant_a, tokens):
    report = run_import(tenant_a, users_domain="alpha.test")
    stored = _settings_users()
    with tenant_context(tenant_a):
        for name, made in tokens["users"].items():
            user = User.objects.get(email=stored[name]["email"] or f"{name}@alpha.test")
            assert user.role == made["role"]
            assert user.is_active == made.get("enabled", True)
        assert not User.objects.get(email="olivia@alpha.test").has_usable_password()
    attention = {e.item for e in report.by_outcome(Outcome.ATTENTION)}
    assert "settings.json: users.olivia.password_hash" in attention


def test_users_without_an_address_are_named_for_attention(tenant_a):
    report = run_import(tenant_a)
    named = {e.item for e in report.by_outcome(Outcome.ATTENTION) if "users." in e.item}
    without = {f"settings.json: users.{n}" for n, u in _settings_users().items() if not u["email"] and n != "admin"}
    assert without <= named and "settings.json: users.victor" not in named
    with tenant_context(tenant_a):
        assert User.objects.get(email="victor@alpha.test").role == "viewer"


def test_certmate_tokens_work_against_the_tenant_with_their_role_and_scope(tenant_a, tokens):
    run_import(tenant_a)
    client = tenant_client(tenant_a)
    for name, made in tokens["api_keys"].items():
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {made['token']}")
        response = client.get("/api/certificates")
        if made.get("revoked"):
            assert response.status_code == 401, name
        else:
            assert response.status_code == 200, (name, response.content[:200])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['bearer_token']}")
    assert client.get("/api/certificates").status_code == 200
    with tenant_context(tenant_a):
        scoped = ApiToken.objects.get(name="CertMate: beta-operator")
        assert (scoped.role, scoped.allowed_domains) == ("operator", ["beta.test", "*.beta.test"])
        assert ApiToken.objects.get(name="CertMate: dashboard").expires_at.year == 2030
        assert ApiToken.objects.get(name="CertMate: ci-admin").role == "admin"
    client.credentials(HTTP_AUTHORIZATION="Bearer cm_0000000000000000000000000000000000000000")
    assert client.get("/api/certificates").status_code == 401


def test_the_report_accounts_for_every_file_and_the_source_is_untouched(tenant_a):
    before = _tree_digest(DATA)
    report = run_import(tenant_a)
    assert _tree_digest(DATA) == before
    files = {str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() or p.is_symlink()}
    assert files - report.covered() == set()
    assert all(entry.reason for entry in report.entries if entry.outcome != Outcome.IMPORTED)


def test_a_second_run_changes_nothing(tenant_a):
    first = run_import(tenant_a)
    assert first.changed
    with tenant_context(tenant_a):
        counts = (Certificate.objects.count(), AuditEvent.objects.count(), ApiToken.objects.count(),
                  ImportedObject.objects.count(), DnsAccount.objects.count(), User.objects.count())  # fmt: skip
    second = run_import(tenant_a)
    assert not second.changed
    assert second.covered() == first.covered()
    with tenant_context(tenant_a):
        assert counts == (Certificate.objects.count(), AuditEvent.objects.count(), ApiToken.objects.count(),
                          ImportedObject.objects.count(), DnsAccount.objects.count(), User.objects.count())  # fmt: skip


def test_a_dry_run_reports_and_writes_nothing(tenant_a):
    with tenant_context(tenant_a):
        events = AuditEvent.objects.count()
    report = run_import(tenant_a, dry_run=True)
    assert report.dry_run and report.counts()["imported"] > 50
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0
        assert ImportedObject.objects.count() == 0
        assert AuditEvent.objects.count() == events


def test_an_import_into_one_tenant_is_invisible_in_another(tenant_a, tenant_b, tokens):
    run_import(tenant_a)
    with tenant_context(tenant_b):
        assert Certificate.objects.count() == 0
        assert not CertificateAuthority.objects.filter(name="certmate").exists()
        assert not ApiToken.objects.filter(name__startswith="CertMate").exists()
    client = tenant_client(tenant_b)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['api_keys']['ci-admin']['token']}")
    assert client.get("/api/certificates").status_code == 401


def test_the_data_folder_itself_may_be_given(tenant_a, tenant_b):
    from_data = run_import(tenant_a, path=DATA / "data")
    from_base = run_import(tenant_b, path=DATA)
    assert from_data.covered() == from_base.covered()
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(kind=CertificateKind.SERVER).count() == 5


def test_no_file_is_written_into_the_tenants_area(tenant_a, tmp_path):
    var = Path(os.environ.get("CERTMATE_VAR_DIR", tmp_path))
    before = {p for p in var.rglob("*")} if var.exists() else set()
    run_import(tenant_a)
    after = {p for p in var.rglob("*")} if var.exists() else set()
    assert {p for p in after - before if "postgres" not in str(p)} == set()
