"""The "Test" of a DNS account against a real BIND9: a TSIG-signed SOA query that changes nothing. The
right key passes; a wrong secret or key names the key and algorithm to check; a silent port is a timeout;
a loopback nameserver is refused unless the platform allows it; admins only, each tenant its own; the
portal shows the button for rfc2136 only, with the result."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.dns_test import dns_account_test
from apps.certificates.models import DnsAccount
from certmate.audit.models import AuditEvent
from tests.api.conftest import api_client, api_user
from tests.certificates.test_admin_complete import HOST
from tests.certificates.test_admin_complete import signed_in as admin_signed_in
from tests.conftest import TENANT_A
from tests.e2e.servers import _free_udp_and_tcp_port
from tests.factories import TEST_ACTOR
from tests.portal.conftest import portal_user, signed_in

__all__ = ["api_client", "api_user", "portal_user", "signed_in"]  # the API's and the portal's fixtures
pytestmark = pytest.mark.tools
WRONG = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="


def bind_account(bind9, name: str = "bind", **given) -> DnsAccount:
    credentials = {
        "nameserver": bind9.host, "port": str(bind9.port), "tsig_key": bind9.tsig_name,
        "tsig_secret": bind9.tsig_secret, "tsig_algorithm": bind9.tsig_algorithm, **given,
    }  # fmt: skip
    return dns_account_create(actor=TEST_ACTOR, name=name, provider="rfc2136", credentials=credentials)


def test_the_right_key_passes_and_the_test_is_audited_without_secrets(tenant_a, bind9):
    with tenant_context(tenant_a):
        account = bind_account(bind9)
        result = dns_account_test(account=account, actor=TEST_ACTOR, zone="certmate.test")
        event = AuditEvent.objects.get(action="dns_account.tested")
    assert result.ok, result.message
    assert result.message == f"{bind9.host}:{bind9.port} answered for certmate.test with key '{bind9.tsig_name}'"
    assert event.changes["result"] == [None, "ok"] and event.object_id == str(account.pk)
    assert bind9.tsig_secret not in str(event.changes)


def test_without_a_zone_the_key_alone_is_checked(tenant_a, bind9):
    with tenant_context(tenant_a):
        result = dns_account_test(account=bind_account(bind9), actor=TEST_ACTOR)
    assert result.ok and f"accepted key '{bind9.tsig_name}'" in result.message


def test_a_zone_the_server_does_not_serve_fails(tenant_a, bind9):
    with tenant_context(tenant_a):
        result = dns_account_test(account=bind_account(bind9), actor=TEST_ACTOR, zone="elsewhere.test")
    assert not result.ok and "answered REFUSED for elsewhere.test" in result.message


@pytest.mark.parametrize("given", [{"tsig_secret": WRONG}, {"tsig_key": "no-such-key"}])
def test_a_wrong_secret_or_key_names_the_key_and_algorithm(tenant_a, bind9, given):
    with tenant_context(tenant_a):
        result = dns_account_test(account=bind_account(bind9, **given), actor=TEST_ACTOR, zone="certmate.test")
        event = AuditEvent.objects.get(action="dns_account.tested")
    key = given.get("tsig_key", bind9.tsig_name)
    assert not result.ok
    assert result.message == (
        f"the nameserver refused TSIG key '{key}' (HMAC-SHA256): check the key name, secret and algorithm"
    )
    assert event.changes["result"] == [None, "failed"] and WRONG not in str(event.changes)


def test_a_silent_port_is_a_timeout(tenant_a, bind9):
    port = _free_udp_and_tcp_port()
    with tenant_context(tenant_a):
        account = bind_account(bind9, port=str(port))
        result = dns_account_test(account=account, actor=TEST_ACTOR, zone="certmate.test", timeout=1)
    assert not result.ok and result.message == f"no answer from {bind9.host}:{port} within 1 s"


def test_a_loopback_nameserver_is_refused_unless_the_platform_allows_it(tenant_a, bind9, settings):
    with tenant_context(tenant_a):
        account = bind_account(bind9)
        settings.CERTMATE_EGRESS_ALLOW = []
        result = dns_account_test(account=account, actor=TEST_ACTOR, zone="certmate.test")
    assert not result.ok
    assert "127.0.0.1 is a loopback address" in result.message and "CERTMATE_EGRESS_ALLOW" in result.message


def test_other_providers_are_not_checked(tenant_a):
    with tenant_context(tenant_a):
        account = dns_account_create(
            actor=TEST_ACTOR, name="cf", provider="cloudflare", credentials={"api_token": "cf-token-0123456789"}
        )
        result = dns_account_test(account=account, actor=TEST_ACTOR)
    assert not result.ok
    assert (
        result.message
        == "certmate cannot check Cloudflare accounts without changing a record; the first order will tell"
    )


def test_the_api_answers_admins_of_the_accounts_tenant_only(tenant_a, tenant_b, bind9, api_client):
    with tenant_context(tenant_a):
        account = bind_account(bind9, name="bind-alpha")
    url = f"/api/dns-accounts/{account.pk}/test"
    response = api_client(tenant_a, "admin").post(url, {"zone": "certmate.test"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "ok": True, "message": f"{bind9.host}:{bind9.port} answered for certmate.test with key '{bind9.tsig_name}'"
    }  # fmt: skip
    for role in ("viewer", "operator"):
        assert api_client(tenant_a, role).post(url, {}, format="json").status_code == 403
    assert api_client(tenant_b, "admin").post(url, {}, format="json").status_code == 404
    assert api_client(tenant_a, "admin").post("/api/dns-accounts/999999/test", {}).status_code == 404
    bad = api_client(tenant_a, "admin").post(url, {"zone": "not a zone!"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_zone"
    with tenant_context(tenant_b):
        assert not AuditEvent.objects.filter(action="dns_account.tested").exists()
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="dns_account.tested").count() == 1


def test_the_portal_button_is_there_for_rfc2136_only_and_says_the_result(tenant_a, tenant_b, bind9, signed_in):
    with tenant_context(tenant_a):
        good = bind_account(bind9, name="good")
        wrong = bind_account(bind9, name="wrong", tsig_secret=WRONG)
        cloudflare = dns_account_create(
            actor=TEST_ACTOR, name="cf", provider="cloudflare", credentials={"api_token": "cf-token-0123456789"}
        )
    admin = signed_in(tenant_a, "admin")
    button = 'action="/accounts/dns/{}/test/"'
    assert button.format(good.pk) in admin.get(f"/accounts/dns/{good.pk}/").content.decode()
    assert "/test/" not in admin.get(f"/accounts/dns/{cloudflare.pk}/").content.decode()

    page = admin.post(f"/accounts/dns/{good.pk}/test/", {"zone": "certmate.test"}, follow=True).content.decode()
    assert f"The test passed: {bind9.host}:{bind9.port} answered for certmate.test with key" in page
    page = admin.post(f"/accounts/dns/{wrong.pk}/test/", {"zone": "certmate.test"}, follow=True).content.decode()
    assert "The test failed: the nameserver refused TSIG key" in page and "(HMAC-SHA256)" in page
    assert WRONG not in page and bind9.tsig_secret not in page

    assert signed_in(tenant_a, "viewer").post(f"/accounts/dns/{good.pk}/test/").status_code == 403
    assert signed_in(tenant_b, "admin").post(f"/accounts/dns/{good.pk}/test/").status_code == 404


def test_the_admin_action_tests_the_selected_accounts(tenant_a, bind9, client):
    with tenant_context(tenant_a):
        good, wrong = bind_account(bind9, name="good"), bind_account(bind9, name="wrong", tsig_secret=WRONG)
    admin = admin_signed_in(client, TENANT_A["admin_email"])
    form = {"action": "test_accounts", "_selected_action": [good.pk, wrong.pk]}
    page = admin.post("/admin/certificates/dnsaccount/", form, headers=HOST, follow=True).content.decode()
    assert f"DNS account rfc2136:good: {bind9.host}:{bind9.port} accepted key" in page
    assert (
        f"DNS account rfc2136:wrong: the nameserver refused TSIG key &#x27;{bind9.tsig_name}&#x27; (HMAC-SHA256)"
        in page
    )
