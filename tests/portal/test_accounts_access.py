"""Who opens which administration page of the portal (accounts, CAs, storage, settings, tokens, users,
audit): every page for anonymous visitors and each role, write controls only for the roles that may
write, write URLs refused below their role, and a tenant's rows never on another tenant's pages."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.pki.services import ca_hierarchy_create
from tests.factories import TEST_ACTOR
from tests.portal.conftest import ROLES, host_of

# path: the lowest role that opens it (as the API: viewers read accounts, CAs and settings).
LISTS = {
    "/accounts/": "viewer",
    "/cas/": "viewer",
    "/settings/": "viewer",
    "/audit/": "operator",
    "/storage/": "admin",
    "/tokens/": "admin",
    "/users/": "admin",
}
FORMS = ("/accounts/ca/add/", "/accounts/dns/add/", "/cas/add/", "/users/add/")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@pytest.fixture
def rows_a(tenant_a):
    """Tenant A's accounts and CA hierarchy: what its pages list and link to."""
    with tenant_context(tenant_a):
        ca = ca_account_create(name="alpha-acme", directory="letsencrypt_staging", email="ops@alpha.example",
                               actor=TEST_ACTOR)  # fmt: skip
        dns = dns_account_create(name="alpha-dns", provider="digitalocean", credentials={"api_token": "tok-alpha"},
                                 actor=TEST_ACTOR)  # fmt: skip
        _root, intermediate = ca_hierarchy_create(name="alpha", common_name="Alpha CA", key_type="ec256",
                                                  actor=TEST_ACTOR)  # fmt: skip
        profile = intermediate.profiles.get(name="server")
    return {"ca": ca, "dns": dns, "authority": intermediate, "profile": profile}


def detail_pages(rows) -> dict[str, str]:
    authority = rows["authority"]
    return {
        f"/accounts/ca/{rows['ca'].pk}/": "admin",
        f"/accounts/dns/{rows['dns'].pk}/": "admin",
        f"/accounts/ca/{rows['ca'].pk}/delete/": "admin",
        f"/accounts/dns/{rows['dns'].pk}/delete/": "admin",
        f"/cas/{authority.pk}/": "viewer",
        f"/cas/{authority.pk}/profiles/add/": "admin",
        f"/cas/{authority.pk}/profiles/{rows['profile'].pk}/": "admin",
        f"/cas/{authority.pk}/profiles/{rows['profile'].pk}/delete/": "admin",
    }


def all_pages(rows) -> dict[str, str]:
    return {**LISTS, **dict.fromkeys(FORMS, "admin"), **detail_pages(rows)}


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_page(tenant_a, signed_in, rows_a):
    client = signed_in(tenant_a, None)
    for path in all_pages(rows_a):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/login/?next={path}", path


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_the_pages_its_role_reads_and_gets_403_on_the_others(tenant_a, signed_in, rows_a, role):
    client = signed_in(tenant_a, role)
    for path, needed in all_pages(rows_a).items():
        response = client.get(path)
        if RANK[role] >= RANK[needed]:
            assert response.status_code == 200, (role, path)
            assert client.user.email in response.content.decode(), path  # the portal's layout, signed in
        else:
            assert response.status_code == 403, (role, path)
            assert b"role" in response.content


def test_the_menu_leads_to_the_portal_pages_not_the_admin(tenant_a, signed_in):
    links = {link.key: link for link in signed_in(tenant_a, "admin").get("/").context["nav_links"]}
    for key in ("accounts", "cas", "storage", "settings", "tokens", "users", "audit"):
        assert links[key].url == f"/{key}/"
        assert not links[key].in_admin
    response = signed_in(tenant_a, "viewer").get("/accounts/")
    assert '<a href="/accounts/" aria-current="page"' in response.content.decode()


WRITE_MARKS = ("Add a CA account", "Add a DNS account", "Create a CA hierarchy", "Add a profile", "Disable",
               "Retire", 'type="submit"')  # fmt: skip


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_readers_below_admin_see_no_write_control(tenant_a, signed_in, rows_a, role):
    client = signed_in(tenant_a, role)
    authority = rows_a["authority"]
    for path in ("/accounts/", "/cas/", f"/cas/{authority.pk}/", "/settings/"):
        page = client.get(path).content.decode()
        main = page.split('<main id="main"', 1)[1]
        for mark in WRITE_MARKS:
            assert mark not in main, (role, path, mark)
        assert "alpha" in main or path == "/settings/"  # but they read it all
    pages = client.get("/accounts/").content.decode() + client.get(f"/cas/{authority.pk}/").content.decode()
    for mark in (f"/accounts/ca/{rows_a['ca'].pk}/", f"/cas/{authority.pk}/profiles/"):
        assert mark not in pages  # no links to the change forms


def test_admins_see_the_write_controls(tenant_a, signed_in, rows_a):
    client = signed_in(tenant_a, "admin")
    authority = rows_a["authority"]
    accounts = client.get("/accounts/").content.decode()
    assert "Add a CA account" in accounts and f'href="/accounts/ca/{rows_a["ca"].pk}/"' in accounts
    ca = client.get(f"/cas/{authority.pk}/").content.decode()
    for mark in ("Disable", "Retire", "Add a profile", f"/cas/{authority.pk}/profiles/{rows_a['profile'].pk}/"):
        assert mark in ca
    assert 'name="contact_email"' in client.get("/settings/").content.decode()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_write_urls_answer_403_below_admin_and_change_nothing(tenant_a, signed_in, rows_a, role):
    client = signed_in(tenant_a, role)
    authority = rows_a["authority"]
    writes = [
        ("/accounts/ca/add/", {"name": "x", "preset": "letsencrypt", "email": "a@b.example"}),
        (f"/accounts/ca/{rows_a['ca'].pk}/delete/", {}),
        (f"/accounts/dns/{rows_a['dns'].pk}/delete/", {}),
        ("/cas/add/", {"name": "evil", "common_name": "Evil"}),
        (f"/cas/{authority.pk}/disable/", {}),
        (f"/cas/{authority.pk}/profiles/{rows_a['profile'].pk}/delete/", {}),
        ("/settings/", {"renewal_threshold_days": "5"}),
        ("/storage/test/", {}),
        ("/tokens/", {"name": "t", "role": "viewer"}),
        ("/users/add/", {"email": "x@alpha.example", "role": "admin"}),
    ]
    for path, data in writes:
        assert client.post(path, data).status_code == 403, path
    with tenant_context(tenant_a):
        authority.refresh_from_db()
        assert authority.state == "active"
        assert type(rows_a["ca"]).objects.count() == 1
        assert type(rows_a["dns"]).objects.count() == 1


def test_operators_may_not_read_the_admin_pages_and_viewers_not_the_audit_log(tenant_a, signed_in):
    assert signed_in(tenant_a, "viewer").get("/audit/").status_code == 403
    operator = signed_in(tenant_a, "operator")
    for path in ("/storage/", "/tokens/", "/users/"):
        assert operator.get(path).status_code == 403


def test_one_tenants_rows_are_never_found_on_another_tenants_host(tenant_a, tenant_b, signed_in, rows_a):
    beta = signed_in(tenant_b, "admin")
    for path in detail_pages(rows_a):
        assert beta.get(path).status_code == 404, path
    for path in LISTS:
        page = beta.get(path).content.decode()
        assert "alpha-acme" not in page and "alpha-dns" not in page and "Alpha CA" not in page, path
    # A's session on B's host is nothing there.
    alpha = signed_in(tenant_a, "admin")
    alpha.defaults["HTTP_HOST"] = host_of(tenant_b)
    for path in LISTS:
        assert alpha.get(path).status_code == 302, path
    assert beta.post(f"/cas/{rows_a['authority'].pk}/retire/").status_code == 404
    with tenant_context(tenant_a):
        rows_a["authority"].refresh_from_db()
        assert rows_a["authority"].state == "active"
