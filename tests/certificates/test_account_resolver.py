"""One way to name an account, on every face: a name, an id, a CA preset, a DNS "provider:name" mean
the same account to the certificate API, the settings API and the command line."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, TenantSettings
from tests.api.conftest import bearer_client
from tests.factories import accounts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("naming", ["name", "id", "preset"])
def test_a_ca_account_is_named_alike_everywhere(tenant_a, naming, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        ca, dns = accounts("r-")
    name = {"name": ca.name, "id": str(ca.pk), "preset": "letsencrypt"}[naming]
    dns_name = f"rfc2136:{dns.name}"
    admin = bearer_client(tenant_a, "admin")
    settings = admin.patch("/api/settings", {"default_ca_account": name, "default_dns_account": dns_name})
    assert settings.status_code == 200, settings.content
    body = {"domain": f"{naming}.alpha.test", "ca_account": name, "dns_account": dns_name}
    assert admin.post("/api/certificates", body).status_code == 202
    with django_capture_on_commit_callbacks(execute=False):
        call_command(
            "certificate", "issue", f"cli-{naming}.alpha.test", "--tenant", "alpha", "--ca-account", name,
            "--dns-account", dns_name,
        )  # fmt: skip
    with tenant_context(tenant_a):
        chosen = TenantSettings.load()
        assert (chosen.default_ca_account_id, chosen.default_dns_account_id) == (ca.pk, dns.pk)
        for identifier in (f"{naming}.alpha.test", f"cli-{naming}.alpha.test"):
            certificate = Certificate.objects.get(identifier=identifier)
            assert (certificate.ca_account_id, certificate.dns_account_id) == (ca.pk, dns.pk)


def test_an_unknown_account_is_refused_alike(tenant_a):
    admin = bearer_client(tenant_a, "admin")
    settings = admin.patch("/api/settings", {"default_ca_account": "nobody"})
    request = admin.post("/api/certificates", {"domain": "x.alpha.test", "ca_account": "nobody"})
    assert settings.status_code == request.status_code == 400
    assert "no CA account is named 'nobody'" in settings.json()["error"]
    assert "no CA account is named 'nobody'" in request.json()["error"]
    with pytest.raises(CommandError, match="no CA account is named 'nobody'"):
        call_command("certificate", "issue", "x.alpha.test", "--tenant", "alpha", "--ca-account", "nobody")
