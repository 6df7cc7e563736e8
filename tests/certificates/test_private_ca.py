"""A tenant's private CA hierarchy, checked with real openssl: a root and an intermediate it signed,
with the constraints a CA must carry; keys encrypted at rest; each CA in the audit log; per tenant."""

from __future__ import annotations

import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from apps.certificates.pki.models import CertificateAuthority
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.tools import find_program, missing_tool

pytestmark = pytest.mark.django_db


def _openssl(*args: str, input_text: str | None = None) -> str:
    program = find_program("openssl")
    if program is None:
        missing_tool("openssl is not installed")
    done = subprocess.run([program, *args], capture_output=True, text=True, input=input_text, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("key_type", ["ec384", "rsa2048", "ed25519"])
def test_a_hierarchy_verifies_with_openssl(tenant_a, tmp_path, key_type):
    with tenant_context(tenant_a):
        root, intermediate = ca_hierarchy_create(
            name=f"internal-{key_type}", common_name="Alpha Internal CA", organization="Alpha", key_type=key_type,
            name_constraints={"permitted_dns": [".internal.alpha.test"], "permitted_ip": ["10.0.0.0/8"]},
            actor=TEST_ACTOR,
        )  # fmt: skip
    (tmp_path / "root.pem").write_text(root.certificate_pem)
    (tmp_path / "intermediate.pem").write_text(intermediate.certificate_pem)
    verified = _openssl("verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "intermediate.pem"))
    assert verified.strip().endswith(": OK")
    text = _openssl("x509", "-noout", "-text", "-in", str(tmp_path / "intermediate.pem"))
    assert "CA:TRUE, pathlen:0" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "Permitted:" in text and "DNS:.internal.alpha.test" in text and "IP:10.0.0.0/255.0.0.0" in text
    assert (
        "Subject: O = Alpha, CN = Alpha Internal CA\n" in text
        and "Issuer: O = Alpha, CN = Alpha Internal CA Root" in text
    )
    root_text = _openssl("x509", "-noout", "-text", "-in", str(tmp_path / "root.pem"))
    assert "CA:TRUE, pathlen:1" in root_text
    assert (root.name, intermediate.parent_id, root.parent_id) == (f"internal-{key_type}-root", root.pk, None)
    assert intermediate.not_after <= root.not_after
    # The key and the certificate belong together.
    public_of_key = _openssl("pkey", "-pubout", input_text=intermediate.private_key)
    public_of_certificate = _openssl("x509", "-noout", "-pubkey", "-in", str(tmp_path / "intermediate.pem"))
    assert public_of_key == public_of_certificate


def test_keys_are_encrypted_at_rest_and_each_ca_is_audited(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        root, _intermediate = ca_hierarchy_create(name="devices", common_name="Alpha Devices", actor=TEST_ACTOR)
        with connection.cursor() as cursor:
            cursor.execute("SELECT private_key FROM certificates_certificateauthority WHERE id = %s", [root.pk])
            stored = cursor.fetchone()[0]
        assert "PRIVATE KEY" not in stored and "PRIVATE KEY" in root.private_key
        events = AuditEvent.objects.filter(action="certificate_authority.created").order_by("id")
        assert [e.object_name for e in events] == ["devices-root", "devices"]
        assert all("private_key" not in e.changes for e in events)
    with tenant_context(tenant_b):
        assert not CertificateAuthority.objects.filter(name__in=["devices", "devices-root"]).exists()


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"name": "bad name"}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"key_type": "dsa"}, "key_type"),
        ({"common_name": ""}, "common_name"),
        ({"common_name": "x" * 65}, "common_name"),
        ({"common_name": "a\x00b"}, "common_name"),
        ({"root_days": 0}, "root_days"),
        ({"root_days": 10**9}, "root_days"),
        ({"intermediate_days": 4000, "root_days": 3650}, "intermediate_days"),
        ({"name_constraints": {"permitted_dns": ["not a name"]}}, "permitted_dns"),
        ({"name_constraints": {"permitted_ip": ["10.0.0.1/8"]}}, "permitted_ip"),
        ({"name_constraints": {"permitted_dns": ["a.test"] * 51}}, "permitted_dns"),
        ({"name_constraints": {"permitted_dns": "a.test"}}, "permitted_dns"),  # a name, not a list of them
    ],
)
def test_bad_input_is_refused_before_anything_is_made(tenant_a, given, field):
    request = {"name": "refused", "common_name": "Refused CA", "actor": TEST_ACTOR, **given}
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as refused:
            ca_hierarchy_create(**request)
        assert field in refused.value.message_dict
        assert not CertificateAuthority.objects.exists()


def test_a_taken_name_is_refused(tenant_a):
    with tenant_context(tenant_a):
        ca_hierarchy_create(name="twice", common_name="Twice", actor=TEST_ACTOR)
        with pytest.raises(ValidationError) as refused:
            ca_hierarchy_create(name="twice", common_name="Twice", actor=TEST_ACTOR)
        assert refused.value.code == "name_taken"
        assert CertificateAuthority.objects.filter(name__startswith="twice").count() == 2


def test_a_refusal_never_echoes_a_long_value(tenant_a):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        ca_hierarchy_create(name="echo", common_name="Echo", root_days="9" * 10_000, actor=TEST_ACTOR)
    assert len(" ".join(refused.value.message_dict["root_days"])) < 200
