"""`manage.py pki ca ...`: what an operator types, what they see (never a private key), and one-line
errors when something is wrong."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority
from tests.pki.conftest import openssl
from tests.pki.outside_ca import outside_root, outside_sign

pytestmark = pytest.mark.django_db
PASSPHRASE = "s3cret passphrase"


def pki(tenant, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("pki", "ca", *args, "--tenant", tenant.schema_name, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _listed(tenant) -> dict[str, list[str]]:
    lines = pki(tenant, "list")[0].splitlines()
    assert lines[0].split() == ["NAME", "ORIGIN", "STATE", "KEY", "NOT", "AFTER", "DEFAULT"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def test_create_and_list(tenant_a):
    out, _ = pki(tenant_a, "create", "corp", "--common-name", "Corp CA", "--key-type", "ec256",
                 "--permitted-dns", ".corp.test", "--permitted-dns", ".corp.example")  # fmt: skip
    assert "CA 'corp-root' created" in out and "CA 'corp' created" in out
    listed = _listed(tenant_a)
    assert listed["corp"][:3] == ["intermediate", "active", "ec256"] and listed["corp-root"][0] == "root"
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.get(name="corp").name_constraints == {
            "permitted_dns": [".corp.test", ".corp.example"]
        }


@pytest.mark.parametrize("how", ["file", "env"])
def test_import_with_an_encrypted_key(tenant_a, tmp_path, monkeypatch, how):
    outside = outside_root(tmp_path, passphrase=PASSPHRASE)
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    monkeypatch.setenv("CORP_CA_PASSPHRASE", PASSPHRASE)
    given = ["--passphrase-file", str(tmp_path / "pass.txt")] if how == "file" else ["--passphrase-env",
                                                                                     "CORP_CA_PASSPHRASE"]  # fmt: skip
    out, err = pki(tenant_a, "import", "corp", "--certificate", str(outside.certificate), "--key", str(outside.key),
                   *given)  # fmt: skip
    assert "CA 'corp' imported: CN=Outside Root" in out
    assert "PRIVATE KEY" not in out + err and PASSPHRASE not in out + err
    assert _listed(tenant_a)["corp"][:3] == ["imported", "active", "ec256"]
    with pytest.raises(CommandError, match="passphrase does not open"):
        monkeypatch.setenv("CORP_CA_PASSPHRASE", "wrong")
        pki(tenant_a, "import", "corp2", "--certificate", str(outside.certificate), "--key", str(outside.key),
            "--passphrase-env", "CORP_CA_PASSPHRASE")  # fmt: skip


def test_csr_sign_outside_and_upload(tenant_a, tmp_path):
    root = outside_root(tmp_path)
    csr, err = pki(tenant_a, "csr", "edge", "--common-name", "Edge CA", "--key-type", "ec256")
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----") and "PRIVATE" not in csr
    assert "pki ca upload edge" in err
    assert "CA:TRUE" in openssl("req", "-noout", "-text", input_text=csr).stdout
    pki(tenant_a, "csr", "edge", "--out", str(tmp_path / "again.csr"))  # the same CSR, written to a file
    assert (tmp_path / "again.csr").read_text() == csr
    assert _listed(tenant_a)["edge"][:4] == ["external", "pending", "ec256", "-"]
    (tmp_path / "edge.pem").write_text(outside_sign(tmp_path, csr, root))
    out, _ = pki(tenant_a, "upload", "edge", str(tmp_path / "edge.pem"), "--chain", str(root.certificate))
    assert "CA 'edge' is active" in out
    assert _listed(tenant_a)["edge"][:2] == ["external", "active"]


def test_states_and_default(tenant_a, hierarchy_a):
    assert "no default CA" in pki(tenant_a, "default")[0]
    assert "CA 'alpha' is the default" in pki(tenant_a, "default", "alpha")[0]
    assert _listed(tenant_a)["alpha"][-1] == "*"
    assert "CA 'alpha' is the default" in pki(tenant_a, "default", "--ensure")[0]
    assert "is now (intermediate, disabled" in pki(tenant_a, "disable", "alpha")[0]
    assert "is now (intermediate, active" in pki(tenant_a, "enable", "alpha")[0]
    pki(tenant_a, "retire", "alpha")
    with pytest.raises(CommandError, match="retired: that is final"):
        pki(tenant_a, "enable", "alpha")
    with pytest.raises(CommandError, match="cannot issue"):
        pki(tenant_a, "default", "alpha-root")


def test_errors_are_one_line(tenant_a, tenant_b, hierarchy_a, tmp_path):
    (tmp_path / "junk.pem").write_text("junk")
    junk = str(tmp_path / "junk.pem")
    (tmp_path / "huge.pem").write_bytes(b"A" * 300_000)
    cases = [
        (("disable", "nope"), "no CA 'nope'"),
        (("upload", "alpha", str(tmp_path / "missing.pem")), "cannot read the certificate file"),
        (("upload", "alpha", str(tmp_path / "huge.pem")), "larger than"),
        (("import", "x", "--certificate", junk, "--key", junk), "certificate cannot be read"),
        (("import", "x", "--certificate", junk, "--key", junk, "--passphrase-env", "UNSET_VAR_X"),
         "'UNSET_VAR_X' is not set"),
        (("csr", "nope"), "no CA 'nope'"),
        (("create", "bad name", "--common-name", "X"), "letters, digits"),
    ]  # fmt: skip
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            pki(tenant_a, *args)
    # Tenant B's operator cannot touch tenant A's CA by name.
    with pytest.raises(CommandError, match="no CA 'alpha'"):
        pki(tenant_b, "disable", "alpha")
    assert "alpha" not in _listed(tenant_b)
    with tenant_context(tenant_a):
        assert CertificateAuthority.objects.get(name="alpha").state == "active"
