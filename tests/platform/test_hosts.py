"""The host picks the tenant: each tenant's admin on its host, the platform on the public host,
and nothing at all for a host nobody owns."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Tenant
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from tests.conftest import PASSWORD, PUBLIC_HOST, TENANT_A, TENANT_B

OPERATOR = "operator@platform.test"


@pytest.fixture
def platform_operator(db, public_schema_name):
    with schema_context(public_schema_name):
        return user_create(email=OPERATOR, password=PASSWORD, role="admin", actor=Actor.command())


def login(client: Client, host: str, email: str) -> bool:
    response = client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers={"host": host})
    return response.status_code == 302


@pytest.mark.parametrize("path", ["/admin/login/", "/api/health", "/"])
def test_unknown_host_gets_404_and_no_content(db, client, path):
    response = client.get(path, headers={"host": "stranger.test"})
    assert response.status_code == 404
    assert response.json() == {"error": "No tenant is served at host 'stranger.test'.", "code": "unknown_host"}


def test_inactive_tenant_is_served_like_an_unknown_host(tenant_a, client):
    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)
    response = client.get("/admin/login/", headers={"host": TENANT_A["domain"]})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_host"


def test_each_host_serves_its_own_admin(db, client):
    platform = client.get("/admin/login/", headers={"host": PUBLIC_HOST})
    alpha = client.get("/admin/login/", headers={"host": TENANT_A["domain"]})
    assert platform.status_code == alpha.status_code == 200
    assert b"certmate platform" in platform.content
    assert b"certmate \xc2\xb7 Alpha" in alpha.content


def test_tenant_admin_logs_in_on_its_own_host_only(db, client):
    assert not login(client, TENANT_B["domain"], TENANT_A["admin_email"])
    assert not login(client, PUBLIC_HOST, TENANT_A["admin_email"])
    assert login(client, TENANT_A["domain"], TENANT_A["admin_email"])


def test_tenant_admin_sees_only_its_own_users(db, client):
    assert login(client, TENANT_A["domain"], TENANT_A["admin_email"])
    page = client.get("/admin/accounts/user/", headers={"host": TENANT_A["domain"]})
    assert page.status_code == 200
    assert TENANT_A["admin_email"].encode() in page.content
    assert TENANT_B["admin_email"].encode() not in page.content


def test_a_session_from_one_tenant_is_worthless_on_another(db, client):
    assert login(client, TENANT_A["domain"], TENANT_A["admin_email"])
    # The test client sends the cookie to every host; only the schema's own session table knows it.
    response = client.get("/admin/accounts/user/", headers={"host": TENANT_B["domain"]})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/", headers={"host": PUBLIC_HOST}).status_code == 302


def test_tenant_admin_has_no_tenant_management(db, client):
    assert login(client, TENANT_A["domain"], TENANT_A["admin_email"])
    assert client.get("/admin/accounts/tenant/", headers={"host": TENANT_A["domain"]}).status_code == 404


def test_platform_operator_manages_tenants_on_the_public_host(platform_operator, client):
    assert login(client, PUBLIC_HOST, OPERATOR)
    page = client.get("/admin/accounts/tenant/", headers={"host": PUBLIC_HOST})
    assert page.status_code == 200
    text = page.content.decode()
    assert "alpha.test" in text and "beta.test" in text
    assert ">public<" not in text
    assert not login(Client(), TENANT_A["domain"], OPERATOR)


def test_platform_operator_creates_a_tenant_from_the_admin(platform_operator, client):
    assert login(client, PUBLIC_HOST, OPERATOR)
    form = {"slug": "kappa", "name": "Kappa", "domain": "kappa.test"}  # through tenant_create
    response = client.post("/admin/accounts/tenant/add/", form, headers={"host": PUBLIC_HOST})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/api/health", headers={"host": "kappa.test"}).json()["tenant"] == "kappa"
    bad = client.post(
        "/admin/accounts/tenant/add/",
        {**form, "slug": "pg_bad", "domain": "bad.test"},
        headers={"host": PUBLIC_HOST},
    )
    assert bad.status_code == 200
    assert "names starting with pg_ belong to PostgreSQL" in bad.content.decode()
    assert not Tenant.objects.filter(schema_name="pg_bad").exists()


@pytest.mark.parametrize("host", ["www.alpha.test", "www.localhost"])
def test_unregistered_www_names_are_unknown_hosts(db, client, host):
    assert client.get("/api/health", headers={"host": host}).status_code == 404


def test_host_matching_ignores_case(db, client):
    assert client.get("/api/health", headers={"host": "ALPHA.Test"}).json()["tenant"] == "alpha"


def test_the_public_hosts_root_leads_to_the_platform_console(db, client, settings):
    settings.DEBUG = True  # as under `make run`: still no debug 404 page listing the URL patterns
    response = client.get("/", headers={"host": PUBLIC_HOST})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
