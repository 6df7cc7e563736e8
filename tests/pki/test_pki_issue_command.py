"""``manage.py pki issue`` and ``pki renew``: what they print, what they store, the profile's refusals as
one-line errors, and a tenant that cannot reach another's CA."""

from __future__ import annotations

import io

import pytest
from cryptography.x509 import RFC822Name
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from certmate.audit.models import AuditEvent
from tests.pki.conftest import openssl
from tests.pki.test_issuing import make_csr

pytestmark = pytest.mark.django_db


def pki(*args: str) -> str:
    out = io.StringIO()
    call_command("pki", *args, stdout=out)
    return out.getvalue()


def test_issue_a_client_certificate_and_print_its_facts(tenant_a, hierarchy_a, tmp_path):
    names = ("--name", "alice-laptop", "--cn", "Alice", "--org", "Alpha", "--san", "email:alice@alpha.test")
    printed = pki("issue", "--tenant", "alpha", "--ca", "alpha", *names, "--key-type", "ec256", "--days", "30")
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(kind="client", identifier="alice-laptop")
        version = certificate.current_version
        assert certificate.profile.name == "client" and certificate.validity_days == 30
        assert AuditEvent.objects.filter(action="certificate.issued", actor_name="manage.py pki").exists()
    assert "identifier: alice-laptop" in printed
    assert f"serial:     {version.serial}" in printed and version.not_after.isoformat() in printed
    (tmp_path / "leaf.pem").write_text(version.certificate_pem)
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "leaf.pem")).stdout
    assert "CN=Alice" in text.replace(" = ", "=") and "email:alice@alpha.test" in text


def test_issue_a_server_certificate_from_a_csr(tenant_a, hierarchy_a, tmp_path):
    csr_pem, _ = make_csr("api.internal.test", [])
    (tmp_path / "request.csr").write_text(csr_pem)
    printed = pki("issue", "--tenant", "alpha", "--ca", "alpha", "--kind", "server", "--san", "DNS:api.internal.test",
                  "--csr", str(tmp_path / "request.csr"))  # fmt: skip
    assert "issued server certificate api.internal.test" in printed
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(kind="server", identifier="api.internal.test")
        assert certificate.profile.name == "server" and certificate.csr_pem
        assert certificate.current_version.private_key == ""


def test_refusals_are_one_line_errors_and_nothing_is_issued(tenant_a, tenant_b, hierarchy_a, hierarchy_b, tmp_path):
    base = ("issue", "--tenant", "alpha", "--ca", "alpha")
    with pytest.raises(CommandError, match=r"SAN types allowed: dns, ip"):
        pki(*base, "--kind", "server", "--san", "email:x@alpha.test")
    with pytest.raises(CommandError, match="has no profile 'nope'"):
        pki(*base, "--profile", "nope", "--cn", "x")
    with pytest.raises(CommandError, match="cannot read the CSR"):
        pki(*base, "--cn", "x", "--csr", str(tmp_path / "missing.csr"))
    (tmp_path / "bad.csr").write_text("not a csr")
    with pytest.raises(CommandError, match="CSR cannot be read"):
        pki(*base, "--cn", "x", "--csr", str(tmp_path / "bad.csr"))
    # Tenant B's CA is not tenant A's to use, nor the other way round.
    with pytest.raises(CommandError, match="no CA 'beta'"):
        pki("issue", "--tenant", "alpha", "--ca", "beta", "--cn", "x")
    with pytest.raises(CommandError, match="no CA 'alpha'"):
        pki("issue", "--tenant", "beta", "--ca", "alpha", "--cn", "x")
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert not Certificate.objects.exists()


def test_renew_now_and_from_a_new_csr(tenant_a, hierarchy_a, tmp_path):
    pki("issue", "--tenant", "alpha", "--ca", "alpha", "--name", "bob", "--cn", "Bob")
    printed = pki("renew", "--tenant", "alpha", "bob")
    assert "renewed client certificate bob (version 2)" in printed
    csr_pem, _ = make_csr("device", [RFC822Name("device@alpha.test")])
    (tmp_path / "device.csr").write_text(csr_pem)
    pki("issue", "--tenant", "alpha", "--ca", "alpha", "--name", "device", "--csr", str(tmp_path / "device.csr"))
    with pytest.raises(CommandError, match="send a new CSR"):
        pki("renew", "--tenant", "alpha", "device")
    (tmp_path / "new.csr").write_text(make_csr("device", [])[0])
    assert "(version 2)" in pki("renew", "--tenant", "alpha", "device", "--csr", str(tmp_path / "new.csr"))
    with pytest.raises(CommandError, match="no private certificate named 'nobody'"):
        pki("renew", "--tenant", "alpha", "nobody")
    with tenant_context(tenant_a):
        assert [c.current_version.number for c in Certificate.objects.order_by("identifier")] == [2, 2]
