"""CertMate's DNS account endpoints and /api/settings/dns-providers, with CertMate's request and
response shapes, over certmate's DNS accounts (one write path: the audit log records each change)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import DnsAccount
from certmate.audit.models import AuditEvent
from tests.factories import RFC2136, accounts, certificate_make

ACCOUNT_KEYS = {"account_id", "name", "description", "configured", "provider"}


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/dns/rfc2136/accounts", {"name": "primary", "config": RFC2136}),
        ("/api/dns/accounts", {"account_id": "primary", "provider": "rfc2136", "config": RFC2136}),
        ("/api/dns-providers/accounts", {"name": "primary", "provider": "rfc2136", "config": RFC2136}),
    ],
)
def test_create_and_list_in_certmates_shapes(tenant_a, tenant_b, admin, api_client, path, body):
    created = admin.post(path, body, format="json")
    assert created.status_code == 200, created.content
    assert created.json() == {"success": True, "message": "Account created", "id": "primary"}
    for listing in ("/api/dns/rfc2136/accounts", "/api/dns/accounts", "/api/dns-providers/accounts"):
        rows = admin.get(listing).json()
        assert [row["account_id"] for row in rows] == ["primary"], listing
        assert set(rows[0]) >= ACCOUNT_KEYS and rows[0]["configured"] is True
        assert "c2VjcmV0" not in admin.get(listing).content.decode()  # secrets never come back
    assert admin.get("/api/dns/cloudflare/accounts").json() == []
    assert api_client(tenant_b, "admin").get("/api/dns/accounts").json() == []  # the other tenant has none
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="dns_account.created", object_name__contains="primary").exists()


def test_update_merges_credentials_keeps_masked_ones_and_sets_the_default(tenant_a, admin):
    admin.post("/api/dns/rfc2136/accounts", {"name": "one", "config": RFC2136}, format="json")
    admin.post("/api/dns/rfc2136/accounts", {"name": "two", "config": RFC2136}, format="json")
    response = admin.put(
        "/api/dns/rfc2136/accounts/two",
        {"tsig_key": "other-key", "tsig_secret": "********", "set_as_default": True},
        format="json",
    )
    assert response.status_code == 200 and response.json()["message"] == "Account updated"
    with tenant_context(tenant_a):
        two = DnsAccount.objects.get(name="two")
        assert two.credentials["tsig_key"] == "other-key" and two.credentials["tsig_secret"] == "c2VjcmV0"
        assert two.is_default and not DnsAccount.objects.get(name="one").is_default
    assert admin.put("/api/dns-providers/accounts/one", {"tsig_key": "k3"}, format="json").status_code == 200


def test_delete_and_what_is_in_use(tenant_a, admin):
    admin.post("/api/dns/rfc2136/accounts", {"name": "spare", "config": RFC2136}, format="json")
    deleted = admin.delete("/api/dns/rfc2136/accounts/spare")
    assert deleted.status_code == 200 and deleted.json() == {"success": True, "message": "Account deleted"}
    with tenant_context(tenant_a):
        _, dns = accounts()
        certificate_make("www.alpha.test")
    in_use = admin.delete(f"/api/dns/{dns.provider}/accounts/{dns.name}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"
    assert admin.delete("/api/dns/rfc2136/accounts/nothing").status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/dns/nosuchprovider/accounts", {"name": "x", "config": {}}),
        ("/api/dns/accounts", {"name": "x", "config": RFC2136}),  # no provider
        ("/api/dns/rfc2136/accounts", {"config": RFC2136}),  # no name
        ("/api/dns/rfc2136/accounts", {"name": "x", "config": {"tsig_key": "k"}}),  # missing credentials
        ("/api/dns/rfc2136/accounts", {"name": "x", "config": "text"}),
        ("/api/dns/rfc2136/accounts", {"name": "x" * 101, "config": RFC2136}),
    ],
)
def test_bad_input_is_400(admin, path, body):
    response = admin.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert "c2VjcmV0" not in response.content.decode()


def test_a_taken_name_is_409(admin):
    admin.post("/api/dns/rfc2136/accounts", {"name": "x", "config": RFC2136}, format="json")
    again = admin.post("/api/dns/rfc2136/accounts", {"name": "x", "config": RFC2136}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "name_taken"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_admins_only_as_in_certmate(tenant_a, api_client, role):
    client = api_client(tenant_a, role)
    assert client.get("/api/dns/accounts").status_code == 403
    assert client.post("/api/dns/rfc2136/accounts", {"name": "x", "config": RFC2136}, format="json").status_code == 403


def test_settings_dns_providers_lists_accounts_without_credentials(tenant_a, tenant_b, admin, api_client):
    admin.post("/api/dns/rfc2136/accounts", {"name": "main", "config": RFC2136}, format="json")
    body = api_client(tenant_a, "viewer").get("/api/settings/dns-providers").json()
    assert body["rfc2136"]["default_account"] == "main"
    assert body["rfc2136"]["accounts"]["main"]["configured"] is True
    assert "c2VjcmV0" not in str(body)
    assert api_client(tenant_b, "viewer").get("/api/settings/dns-providers").json() == {}
