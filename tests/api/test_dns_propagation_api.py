"""A DNS account's propagation check over the API: active or fixed, and the nameservers to ask, checked
(IP addresses with an optional port, at most ten, allowed by the egress rule), audited, per tenant."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from certmate.audit.models import AuditEvent
from tests.api.test_accounts_api import create_dns


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def test_a_new_account_checks_actively_and_keeps_the_nameservers_given(tenant_a, admin):
    created = create_dns(admin)
    assert (created["propagation_check"], created["check_nameservers"]) == ("active", [])
    url = f"/api/dns-accounts/{created['id']}"
    changed = admin.patch(url, {"check_nameservers": [" 127.0.0.1:5353", "::1", "[::1]:53", "127.0.0.1:5353"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["check_nameservers"] == ["127.0.0.1:5353", "::1", "[::1]:53"]
    fixed = admin.patch(url, {"propagation_check": "fixed"})
    assert fixed.json()["propagation_check"] == "fixed"
    assert admin.get(url).json()["check_nameservers"] == ["127.0.0.1:5353", "::1", "[::1]:53"]
    with tenant_context(tenant_a):
        changes = [event.changes for event in AuditEvent.objects.filter(action="dns_account.updated").order_by("pk")]
    assert changes[-2]["check_nameservers"] == [[], ["127.0.0.1:5353", "::1", "[::1]:53"]]
    assert changes[-1] == {"propagation_check": ["active", "fixed"]}


@pytest.mark.parametrize(
    ("nameservers", "says"),
    [
        (["ns1.example.com"], "is not an IP address"),
        (["127.0.0.1:0"], "the port must be a number from 1 to 65535"),
        (["127.0.0.1:99999"], "the port must be a number from 1 to 65535"),
        (["[::1"], "is not an IP address"),
        (["10.1.2.3"], "10.1.2.3 is a private address"),
        (["169.254.169.254:53"], "169.254.169.254 is a link-local address"),
        ([f"127.0.0.{n}" for n in range(1, 12)], "no more than 10"),
        (["127.0.0.1\n:53"], "is not an IP address"),
        ("127.0.0.1", "Expected a list"),
    ],
)
def test_bad_nameservers_are_refused_with_400(admin, nameservers, says):
    response = admin.post(
        "/api/dns-accounts",
        {"name": "bind", "provider": "rfc2136", "credentials": _rfc2136(), "check_nameservers": nameservers},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "check_nameservers" in response.json()["fields"]
    assert says in str(response.json()), response.json()


def test_an_unknown_propagation_check_is_refused(admin):
    created = create_dns(admin)
    response = admin.patch(f"/api/dns-accounts/{created['id']}", {"propagation_check": "sometimes"}, format="json")
    assert response.status_code == 400 and "propagation_check" in response.json()["fields"]


def test_the_egress_rule_of_the_platform_applies_at_save(admin):
    created = create_dns(admin)
    url = f"/api/dns-accounts/{created['id']}"
    with override_settings(CERTMATE_EGRESS_ALLOW=[]):
        refused = admin.patch(url, {"check_nameservers": ["127.0.0.1"]}, format="json")
    assert refused.status_code == 400
    assert "127.0.0.1 is a loopback address" in str(refused.json())
    assert admin.patch(url, {"check_nameservers": ["127.0.0.1"]}, format="json").status_code == 200


def test_each_tenant_sees_and_changes_only_its_own_accounts(tenant_a, tenant_b, admin, api_client):
    created = create_dns(admin, check_nameservers=["127.0.0.1:5300"], propagation_check="fixed")
    other = api_client(tenant_b, "admin")
    assert other.get("/api/dns-accounts").json() == []
    assert other.patch(f"/api/dns-accounts/{created['id']}", {"check_nameservers": []}).status_code == 404
    assert admin.get(f"/api/dns-accounts/{created['id']}").json()["check_nameservers"] == ["127.0.0.1:5300"]
    viewer = api_client(tenant_a, "viewer")
    assert viewer.patch(f"/api/dns-accounts/{created['id']}", {"propagation_check": "active"}).status_code == 403


def _rfc2136() -> dict[str, str]:
    return {"nameserver": "127.0.0.1", "port": "53", "tsig_key": "k", "tsig_secret": "c2VjcmV0LXRzaWc="}
