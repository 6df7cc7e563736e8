"""An intermediate signed by the tenant's own root: certmate makes the key and CSR, openssl (the outside
root) signs it, the upload activates the CA, and its leaves verify against the outside root."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.authorities import ca_default_set, ca_external_create, ca_external_upload, ca_state_set
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl
from tests.pki.outside_ca import outside_root, outside_sign, refused, verify

pytestmark = pytest.mark.django_db


def _pending(name: str = "edge", **extra) -> CertificateAuthority:
    return ca_external_create(name=name, common_name="Edge Issuing CA", organization="Alpha", key_type="ec256",
                              actor=TEST_ACTOR, **extra)  # fmt: skip


def test_csr_signed_by_an_outside_root_becomes_an_issuing_ca(tenant_a, tmp_path):
    root = outside_root(tmp_path, "Alpha Corporate Root")
    with tenant_context(tenant_a):
        pending = _pending()
        assert (pending.state, pending.origin, pending.certificate_pem, pending.can_issue) == (
            "pending",
            "external",
            "",
            False,
        )
        assert not pending.profiles.exists()
        assert AuditEvent.objects.filter(action="certificate_authority.csr_created", object_name="edge").exists()
        text = openssl("req", "-noout", "-text", "-verify", input_text=pending.csr_pem)
        assert "CA:TRUE, pathlen:0" in text.stdout and "Certificate Sign" in text.stdout
        assert "CN=Edge Issuing CA" in text.stdout.replace(" = ", "=")
        signed = outside_sign(tmp_path, pending.csr_pem, root)
        authority = ca_external_upload(authority=pending, certificate_pem=signed, chain_pem=root.certificate_pem,
                                       actor=TEST_ACTOR)  # fmt: skip
        assert (authority.state, authority.path_length, authority.chain_pem) == ("active", 0, root.certificate_pem)
        assert authority.subject == "CN=Edge Issuing CA,O=Alpha" and authority.not_after and authority.serial
        assert authority.can_issue
        profile = CertificateProfile.objects.get(authority=authority, name="server")
        certificate = private_certificate_issue(
            PrivateRequest(profile=profile, kind="server", alt_names=["DNS:api.alpha.test"]), actor=TEST_ACTOR
        )
        version = certificate.current_version
        assert AuditEvent.objects.filter(action="certificate_authority.uploaded", object_name="edge").count() == 1
    assert version.chain_pem == signed + root.certificate_pem
    assert verify(tmp_path, version.certificate_pem, root, version.chain_pem).strip().endswith("OK")
    # A second, unrelated root is no trust anchor for it.
    stranger = outside_root(tmp_path, "Stranger Root")
    assert not verify(tmp_path, version.certificate_pem, stranger, version.chain_pem).strip().endswith("OK")


def test_the_same_upload_twice_changes_nothing_and_another_certificate_is_refused(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    with tenant_context(tenant_a):
        pending = _pending()
        signed = outside_sign(tmp_path, pending.csr_pem, root)
        first = ca_external_upload(authority=pending, certificate_pem=signed, actor=TEST_ACTOR)
        again = ca_external_upload(authority=pending, certificate_pem=signed, actor=TEST_ACTOR)
        assert again.pk == first.pk and again.fingerprint_sha256 == first.fingerprint_sha256
        assert AuditEvent.objects.filter(action="certificate_authority.uploaded").count() == 1
        assert CertificateProfile.objects.filter(authority=first).count() == 3
        resigned = outside_sign(tmp_path, pending.csr_pem, root, days=10)
        assert refused(ca_external_upload, authority=first, certificate_pem=resigned, actor=TEST_ACTOR) == {
            "not_pending"
        }


def test_a_certificate_for_another_key_or_a_leaf_is_refused(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    with tenant_context(tenant_a):
        pending, other = _pending(), _pending("other")
        for_other = outside_sign(tmp_path, other.csr_pem, root)
        assert refused(ca_external_upload, authority=pending, certificate_pem=for_other, actor=TEST_ACTOR) == {
            "key_mismatch"
        }
        leaf = outside_sign(tmp_path, pending.csr_pem, root, ca=False)
        assert refused(ca_external_upload, authority=pending, certificate_pem=leaf, actor=TEST_ACTOR) == {"not_a_ca"}
        signed = outside_sign(tmp_path, pending.csr_pem, root)
        stranger = outside_root(tmp_path, "Stranger Root")
        assert refused(ca_external_upload, authority=pending, certificate_pem=signed,
                       chain_pem=stranger.certificate_pem, actor=TEST_ACTOR) == {"invalid_chain"}  # fmt: skip
        broken = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"
        for garbage in ("", "nope", None, b"\x00" * 50, 3, broken):
            assert refused(ca_external_upload, authority=pending, certificate_pem=garbage, actor=TEST_ACTOR) == {
                "invalid_certificate"
            }
        pending.refresh_from_db()
        assert (pending.state, pending.certificate_pem) == ("pending", "")


def test_a_pending_ca_neither_issues_nor_becomes_default_nor_is_enabled(tenant_a):
    with tenant_context(tenant_a):
        pending = _pending()
        assert refused(ca_state_set, authority=pending, state="active", actor=TEST_ACTOR) == {"pending"}
        assert refused(ca_default_set, authority=pending, actor=TEST_ACTOR) == {"ca_unavailable"}


def test_requested_name_constraints_are_a_request_and_the_certificate_decides(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    with tenant_context(tenant_a):
        pending = _pending(name_constraints={"permitted_dns": [".alpha.test"]})
        assert pending.name_constraints == {"permitted_dns": [".alpha.test"]}
        assert "Permitted" in openssl("req", "-noout", "-text", input_text=pending.csr_pem).stdout
        # `openssl x509 -req` copies no extension from the CSR: the signed CA carries no constraints.
        authority = ca_external_upload(authority=pending, certificate_pem=outside_sign(tmp_path, pending.csr_pem, root),
                                       actor=TEST_ACTOR)  # fmt: skip
        assert authority.name_constraints == {}


@pytest.mark.parametrize(
    "change",
    [
        {"name": "has space"},
        {"name": ""},
        {"common_name": ""},
        {"common_name": "x" * 65},
        {"common_name": "bad\nname"},
        {"organization": "o" * 100},
        {"key_type": "rsa1024"},
        {"key_type": ["ec256"]},
        {"name_constraints": {"permitted_dns": "alpha.test"}},
        {"name_constraints": {"permitted_uri": ["x"]}},
        {"name_constraints": {"permitted_ip": ["10.0.0.1/8"]}},
    ],
)
def test_bad_requests_are_validation_errors(tenant_a, change):
    given = {"name": "edge", "common_name": "Edge", "actor": TEST_ACTOR, **change}
    with tenant_context(tenant_a):
        refused(ca_external_create, **given)
        assert not CertificateAuthority.objects.exists()


def test_a_taken_name_is_refused(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        for name in ("alpha", "alpha-root"):
            assert refused(ca_external_create, name=name, common_name="X", actor=TEST_ACTOR) == {"name_taken"}
