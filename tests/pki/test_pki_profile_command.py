"""``manage.py pki profile``: a tenant's profiles from the command line, through the same services
(and the same refusals) as the API and the admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateProfile
from certmate.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def pki(*args: str) -> str:
    out = io.StringIO()
    call_command("pki", *args, stdout=out)
    connection.set_schema_to_public()
    return out.getvalue()


def test_list_create_update_delete(tenant_a, hierarchy_a):
    listed = pki("profile", "list", "--tenant", "alpha", "--ca", "alpha")
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["client", "server", "server-and-client"]
    shown = pki("profile", "create", "--tenant", "alpha", "--ca", "alpha", "devices",
                "--set", "kind=client", "--set", "extended_key_usage=clientAuth,1.3.6.1.4.1.99999.1",
                "--set", "san_types=uri", "--set", "name_patterns=uri:spiffe://alpha.test/devices/",
                "--set", "max_days=90", "--set", "default_days=30", "--set", "allow_csr=false")  # fmt: skip
    assert "extended_key_usage: ['clientAuth', '1.3.6.1.4.1.99999.1']" in shown
    pki("profile", "update", "--tenant", "alpha", "--ca", "alpha", "devices", "--set", "max_days=60")
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(name="devices")
        assert (profile.max_days, profile.name_patterns) == (60, {"uri": ["spiffe://alpha.test/devices/"]})
        assert AuditEvent.objects.filter(action="certificate_profile.updated", channel="command").exists()
    pki("profile", "delete", "--tenant", "alpha", "--ca", "alpha", "devices")
    with tenant_context(tenant_a):
        assert not CertificateProfile.objects.filter(name="devices").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["--set", "extended_key_usage=serverAuth,not-an-oid"], "neither"),
        (["--set", "default_days=400", "--set", "max_days=100"], "must not exceed max_days"),
        (["--set", "name_patterns=dns:bad..name"], "not a valid dns pattern"),
        (["--set", "bogus=1"], "FIELD one of"),
        (["--set", "allow_csr=false", "--set", "allow_server_key=false"], "server-side keys, CSRs, or both"),
    ],
)
def test_bad_profiles_are_refused_with_the_reason(tenant_a, hierarchy_a, settings, message):
    with pytest.raises(CommandError, match=message):
        pki("profile", "create", "--tenant", "alpha", "--ca", "alpha", "odd", *settings)
    with tenant_context(tenant_a):
        assert not CertificateProfile.objects.filter(name="odd").exists()


def test_another_tenants_ca_is_not_there(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with pytest.raises(CommandError, match="no CA 'alpha'"):
        pki("profile", "list", "--tenant", "beta", "--ca", "alpha")
