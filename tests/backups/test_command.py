"""`manage.py tenant export|import`: what an operator types, and what they read when it is wrong."""

from __future__ import annotations

import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import Tenant
from apps.certificates.models import Certificate
from certmate.audit.models import AuditEvent
from tests.backups.conftest import PASSPHRASE


def tenant(*args) -> str:
    out = StringIO()
    call_command("tenant", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return str(path)


def test_export_then_import_as_a_new_tenant(filled_a, tmp_path, passphrase_file):
    archive = tmp_path / "alpha.backup"
    said = tenant("export", "alpha", str(archive), "--passphrase-file", passphrase_file)
    assert said.startswith("exported tenant alpha: ") and said.endswith("(encrypted with the passphrase)")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tenant_context(Tenant.objects.get(schema_name="alpha")):
        event = AuditEvent.objects.order_by("-id").first()
        assert (event.action, event.channel, event.actor_name) == (
            "backup.created",
            "command",
            "manage.py tenant export",
        )

    said = tenant(
        "import", str(archive), "--slug", "gamma", "--domain", "restored.test", "--passphrase-file", passphrase_file
    )
    assert said.startswith("restored tenant alpha as gamma: ")
    gamma = Tenant.objects.get(schema_name="gamma")
    assert gamma.get_primary_domain().domain == "restored.test"
    with tenant_context(gamma):
        assert Certificate.objects.count() == 2


def test_platform_key_export_says_so(filled_a, tmp_path):
    archive = tmp_path / "alpha.backup"
    assert tenant("export", "alpha", str(archive)).endswith("(encrypted with the platform key)")
    with pytest.raises(CommandError, match="exists: choose another file name"):
        tenant("export", "alpha", str(archive))


def test_mistakes_are_one_line_and_create_nothing(filled_a, tmp_path, passphrase_file):
    archive = tmp_path / "alpha.backup"
    tenant("export", "alpha", str(archive), "--passphrase-file", passphrase_file)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the right passphrase\n")
    with pytest.raises(CommandError, match=r"wrong passphrase.*nothing was restored"):
        tenant("import", str(archive), "--slug", "gamma", "--passphrase-file", str(wrong))
    with pytest.raises(CommandError, match="tenant 'beta' exists"):
        tenant("import", str(archive), "--slug", "beta", "--passphrase-file", passphrase_file)
    with pytest.raises(CommandError, match="add --yes to confirm"):
        tenant("import", str(archive), "--slug", "alpha", "--replace")
    with pytest.raises(CommandError, match="no tenant with slug 'nobody'"):
        tenant("export", "nobody", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="cannot read"):
        tenant("import", str(tmp_path / "missing"), "--slug", "gamma")
    with pytest.raises(CommandError, match="not a certmate backup"):
        tenant("import", passphrase_file, "--slug", "gamma")
    assert not schema_exists("gamma") and not Tenant.objects.filter(schema_name="gamma").exists()


def test_replace_with_yes_restores_the_tenant(filled_a, tmp_path, passphrase_file):
    archive = tmp_path / "alpha.backup"
    tenant("export", "alpha", str(archive), "--passphrase-file", passphrase_file)
    alpha = Tenant.objects.get(schema_name="alpha")
    with tenant_context(alpha):
        Certificate.objects.all().delete()
    tenant("import", str(archive), "--slug", "alpha", "--replace", "--yes", "--passphrase-file", passphrase_file)
    with tenant_context(alpha):
        assert Certificate.objects.count() == 2
