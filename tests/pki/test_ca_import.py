"""Importing a CA made elsewhere (openssl): its certificate, key (passphrase-protected or not) and chain
are checked; it issues leaves that verify against the outside root; refusals are clear 400s."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.authorities import ca_import, ca_resolve
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from certmate.audit.models import AuditEvent
from certmate.errors import NotFound
from tests.factories import TEST_ACTOR
from tests.pki.outside_ca import CA_EXTENSIONS, key_make, outside_intermediate, outside_root, refused, verify

pytestmark = pytest.mark.django_db
PASSPHRASE = "correct horse battery staple"


def _issue_client(authority: CertificateAuthority, name: str):
    profile = CertificateProfile.objects.get(authority=authority, name="client")
    return private_certificate_issue(
        PrivateRequest(profile=profile, subject={"common_name": name}, name=name), actor=TEST_ACTOR
    ).current_version


def test_import_a_root_with_an_encrypted_rsa_key_and_issue_from_it(tenant_a, tmp_path):
    outside = outside_root(tmp_path, "Corp Root", algorithm="RSA", key_options=("-pkeyopt", "rsa_keygen_bits:2048"),
                           passphrase=PASSPHRASE)  # fmt: skip
    assert "ENCRYPTED" in outside.key_pem
    with tenant_context(tenant_a):
        authority = ca_import(name="corp", certificate_pem=outside.certificate_pem, private_key_pem=outside.key_pem,
                              passphrase=PASSPHRASE, actor=TEST_ACTOR)  # fmt: skip
        assert (authority.origin, authority.state, authority.key_type) == ("imported", "active", "rsa2048")
        assert authority.subject == "CN=Corp Root" and authority.can_issue and authority.chain_pem == ""
        assert sorted(authority.profiles.values_list("name", flat=True)) == ["client", "server", "server-and-client"]
        stored = CertificateAuthority.objects.get(pk=authority.pk).private_key
        assert stored.startswith("-----BEGIN PRIVATE KEY-----"), "kept decrypted as PKCS#8 (the field encrypts it)"
        with connection.cursor() as cursor:
            cursor.execute("SELECT private_key FROM certificates_certificateauthority WHERE id = %s", [authority.pk])
            raw = cursor.fetchone()[0]
        assert "PRIVATE KEY" not in raw
        event = AuditEvent.objects.get(action="certificate_authority.imported", object_name="corp")
        assert "PRIVATE" not in str(event.changes) and "origin" in event.changes
        version = _issue_client(authority, "alice")
    assert verify(tmp_path, version.certificate_pem, outside).strip().endswith("OK")


def test_import_an_intermediate_with_its_chain(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    intermediate = outside_intermediate(tmp_path, root)
    with tenant_context(tenant_a):
        authority = ca_import(name="corp-issuing", certificate_pem=intermediate.certificate_pem,
                              private_key_pem=intermediate.key_pem, chain_pem=root.certificate_pem,
                              actor=TEST_ACTOR)  # fmt: skip
        assert authority.chain_pem == root.certificate_pem and authority.path_length == 0
        version = _issue_client(authority, "bob")
    assert version.chain_pem == intermediate.certificate_pem + root.certificate_pem
    assert verify(tmp_path, version.certificate_pem, root, version.chain_pem).strip().endswith("OK")


def test_passphrases_missing_or_wrong_are_refused(tenant_a, tmp_path):
    outside = outside_root(tmp_path, passphrase=PASSPHRASE)
    given = {"name": "corp", "certificate_pem": outside.certificate_pem, "private_key_pem": outside.key_pem,
             "actor": TEST_ACTOR}  # fmt: skip
    with tenant_context(tenant_a):
        assert refused(ca_import, **given) == {"bad_passphrase"}
        assert refused(ca_import, **given, passphrase="wrong") == {"bad_passphrase"}
        assert refused(ca_import, **given, passphrase="x" * 5000) == {"bad_passphrase"}
        assert not CertificateAuthority.objects.exists()


def test_a_key_of_another_certificate_is_refused(tenant_a, tmp_path):
    outside = outside_root(tmp_path)
    other_key = key_make(tmp_path / "other.key", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    with tenant_context(tenant_a):
        assert refused(ca_import, name="corp", certificate_pem=outside.certificate_pem,
                       private_key_pem=other_key.read_text(), actor=TEST_ACTOR) == {"key_mismatch"}  # fmt: skip
        assert not CertificateAuthority.objects.exists()


@pytest.mark.parametrize(
    "extensions",
    [
        ("basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"),
        ("basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature"),
    ],
    ids=["leaf", "ca-without-keyCertSign"],
)
def test_a_certificate_that_cannot_sign_certificates_is_refused(tenant_a, tmp_path, extensions):
    outside = outside_root(tmp_path, extensions=extensions)
    with tenant_context(tenant_a):
        assert refused(ca_import, name="corp", certificate_pem=outside.certificate_pem,
                       private_key_pem=outside.key_pem, actor=TEST_ACTOR) == {"not_a_ca"}  # fmt: skip


@pytest.mark.parametrize(
    ("algorithm", "options"),
    [("RSA", ("-pkeyopt", "rsa_keygen_bits:1024")), ("EC", ("-pkeyopt", "ec_paramgen_curve:P-521"))],
    ids=["rsa1024", "p521"],
)
def test_unsupported_keys_are_refused(tenant_a, tmp_path, algorithm, options):
    outside = outside_root(tmp_path, algorithm=algorithm, key_options=options)
    with tenant_context(tenant_a):
        assert refused(ca_import, name="corp", certificate_pem=outside.certificate_pem,
                       private_key_pem=outside.key_pem, actor=TEST_ACTOR) == {"invalid_key"}  # fmt: skip


def test_a_chain_that_did_not_sign_the_ca_is_refused(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    stranger = outside_root(tmp_path, "Stranger Root")
    leaf = outside_root(tmp_path, "Leaf", extensions=("basicConstraints=critical,CA:FALSE",))
    intermediate = outside_intermediate(tmp_path, root)
    given = {"name": "corp", "certificate_pem": intermediate.certificate_pem, "private_key_pem": intermediate.key_pem,
             "actor": TEST_ACTOR}  # fmt: skip
    with tenant_context(tenant_a):
        for chain in (stranger.certificate_pem, leaf.certificate_pem, root.certificate_pem * 9, "junk" * 20000,
                      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):  # fmt: skip
            assert refused(ca_import, **given, chain_pem=chain) == {"invalid_chain"}
        assert not CertificateAuthority.objects.exists()


def test_names_and_certificates_are_imported_once(tenant_a, tmp_path):
    outside = outside_root(tmp_path)
    given = {"certificate_pem": outside.certificate_pem, "private_key_pem": outside.key_pem, "actor": TEST_ACTOR}
    with tenant_context(tenant_a):
        ca_import(name="corp", **given)
        assert refused(ca_import, name="corp", **given) == {"name_taken"}
        assert refused(ca_import, name="corp-again", **given) == {"exists"}
        assert CertificateAuthority.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"certificate_pem": ""},
        {"certificate_pem": "not a certificate"},
        {"certificate_pem": b"\xff\xfe" * 100},
        {"certificate_pem": None},
        {"certificate_pem": 42},
        {"certificate_pem": "-----BEGIN CERTIFICATE-----\n" + "A" * 40000 + "\n-----END CERTIFICATE-----\n"},
        {"private_key_pem": ""},
        {"private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
        {"private_key_pem": ["a list"]},
        {"passphrase": 12},
        {"name": "../etc"},
        {"name": None},
        {"name": "x" * 500},
        {"chain_pem": 7},
    ],
)
def test_bad_input_is_a_validation_error_and_echoes_no_key(tenant_a, tmp_path, change):
    outside = outside_root(tmp_path)
    given = {"name": "corp", "certificate_pem": outside.certificate_pem, "private_key_pem": outside.key_pem,
             "actor": TEST_ACTOR, **change}  # fmt: skip
    with tenant_context(tenant_a), pytest.raises(Exception) as caught:
        ca_import(**given)
    assert type(caught.value).__name__ == "ValidationError", repr(caught.value)
    assert outside.key_pem.splitlines()[1][:30] not in str(caught.value)


def test_another_tenant_cannot_find_an_imported_ca(tenant_a, tenant_b, tmp_path):
    outside = outside_root(tmp_path, extensions=CA_EXTENSIONS)
    with tenant_context(tenant_a):
        authority = ca_import(name="corp", certificate_pem=outside.certificate_pem, private_key_pem=outside.key_pem,
                              actor=TEST_ACTOR)  # fmt: skip
        assert ca_resolve("corp") == authority and ca_resolve(str(authority.pk)) == authority
    with tenant_context(tenant_b):
        for value in ("corp", authority.pk, str(authority.pk)):
            with pytest.raises(NotFound):
                ca_resolve(value)
