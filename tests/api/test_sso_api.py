"""/api/sso: admins read their tenant's single sign-on settings (never the secret) and change them with
every value checked; other roles and other tenants see nothing of it."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django_tenants.utils import tenant_context

from tests.api.conftest import host_of
from tests.egress import LOOPBACK_NAME, REFUSED_HOSTS, Listener, http_reply

SECRET = "client-secret-marker-5d1e9a"
ISSUER = "https://127.0.0.1:8443/o"
GOOD = {
    "enabled": True,
    "name": "Example IdP",
    "issuer": ISSUER,
    "client_id": "certmate",
    "client_secret": SECRET,
    "scopes": "openid email profile groups",
    "role_claim": "groups",
    "role_values": {"admin": ["ops-admins"], "operator": ["ops"], "viewer": ["everyone"]},
    "sso_only": False,
}


def test_admin_configures_and_reads_back_without_the_secret(api_client, tenant_a):
    admin = api_client(tenant_a)

    saved = admin.put("/api/sso", GOOD, format="json")
    shown = admin.get("/api/sso")

    assert saved.status_code == 200 and shown.status_code == 200
    body = shown.json()
    assert SECRET not in saved.content.decode() and SECRET not in shown.content.decode()
    assert "client_secret" not in body and body["has_client_secret"] is True
    assert {k: body[k] for k in ("enabled", "issuer", "client_id", "role_values")} == {
        k: GOOD[k] for k in ("enabled", "issuer", "client_id", "role_values")
    }
    assert body["redirect_uri"] == f"http://{host_of(tenant_a)}/sso/callback/"
    with tenant_context(tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM accounts_ssosettings")
        (stored,) = cursor.fetchone()
    assert SECRET not in stored, "encrypted at rest"


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_admins_see_or_change_it(api_client, anon_client, tenant_a, role):
    client = api_client(tenant_a, role)
    assert client.get("/api/sso").status_code == 403
    assert client.put("/api/sso", GOOD, format="json").status_code == 403
    assert anon_client(tenant_a).get("/api/sso").status_code == 401


def test_one_tenant_settings_are_not_another(api_client, tenant_a, tenant_b):
    assert api_client(tenant_a).put("/api/sso", GOOD, format="json").status_code == 200
    beta = api_client(tenant_b).get("/api/sso").json()
    assert (beta["enabled"], beta["issuer"], beta["has_client_secret"]) == (False, "", False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": "http://127.0.0.1:8443/o"}, "issuer"),
        ({"issuer": "https://127.0.0.1:8443/o#/v1/secret"}, "issuer"),
        ({"issuer": "https://user:pw@127.0.0.1/o"}, "issuer"),
        ({"issuer": "x" * 501}, "issuer"),
        ({"issuer": "https://[::1"}, "issuer"),  # urlsplit raises on these: a 400, not a 500
        ({"issuer": "https://[idp.example]/"}, "issuer"),
        ({"scopes": "email profile"}, "scopes"),
        ({"scopes": 'openid "quoted"'}, "scopes"),
        ({"client_id": "certmate\nno-verify-ssl = true"}, "client_id"),
        ({"name": "Example\x00IdP"}, "name"),
        ({"role_claim": "my groups"}, "role_claim"),
        ({"role_values": {"owner": ["x"]}}, "role_values"),
        ({"role_values": {"admin": "ops-admins"}}, "role_values.admin"),
        ({"role_values": {"admin": [f"g{i}" for i in range(101)]}}, "role_values.admin"),
        ({"role_values": {"admin": [], "operator": [], "viewer": []}}, "role_values"),
        ({"enabled": [1]}, "enabled"),
        ({"sso_only": True, "enabled": False}, "sso_only"),
        ({"client_secret": "x" * 1001}, "client_secret"),
        ({"client_secret": ""}, "client_secret"),
    ],
)
def test_bad_settings_are_refused_with_the_field(api_client, tenant_a, change, field):
    response = api_client(tenant_a).put("/api/sso", {**GOOD, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert api_client(tenant_a).get("/api/sso").json()["enabled"] is False, "nothing stored"


def test_issuer_the_egress_rule_refuses(api_client, tenant_a, settings):
    settings.CERTMATE_EGRESS_ALLOW = []
    response = api_client(tenant_a).put("/api/sso", GOOD, format="json")
    assert response.status_code == 400
    assert "issuer" in response.json()["fields"]


def test_the_secret_is_kept_unless_where_it_goes_changes(api_client, tenant_a):
    admin = api_client(tenant_a)
    admin.put("/api/sso", GOOD, format="json")
    without_secret = {k: v for k, v in GOOD.items() if k != "client_secret"}

    kept = admin.put("/api/sso", {**without_secret, "name": "Renamed"}, format="json")
    moved = admin.put("/api/sso", {**without_secret, "issuer": "https://127.0.0.2/o"}, format="json")
    other_client = admin.put("/api/sso", {**without_secret, "client_id": "someone-else"}, format="json")

    assert kept.status_code == 200 and kept.json()["has_client_secret"] is True
    assert moved.status_code == 400 and moved.json()["code"] == "required"
    assert other_client.status_code == 400 and "client_secret" in other_client.json()["fields"]
    assert admin.get("/api/sso").json()["issuer"] == ISSUER


@pytest.mark.parametrize("host", [host for host in REFUSED_HOSTS if host != LOOPBACK_NAME])
def test_issuers_on_refused_addresses_are_a_400(api_client, tenant_a, settings, host):
    settings.CERTMATE_EGRESS_ALLOW = []
    with Listener(http_reply(body=b"{}")) as listener:
        issuer = listener.url(host, scheme="https", path="/o")
        response = api_client(tenant_a).put("/api/sso", {**GOOD, "issuer": issuer}, format="json")
        assert response.status_code == 400, response.content
        assert "CERTMATE_EGRESS_ALLOW" in response.json()["fields"]["issuer"][0]
        assert listener.accepted == 0


def test_an_issuer_name_resolving_to_loopback_is_refused_at_sign_in(api_client, tenant_a, settings, client):
    settings.CERTMATE_EGRESS_ALLOW = []
    with Listener(http_reply(body=b"{}")) as listener:
        issuer = listener.url(LOOPBACK_NAME, scheme="https", path="/o")
        assert api_client(tenant_a).put("/api/sso", {**GOOD, "issuer": issuer}, format="json").status_code == 200

        response = client.get("/sso/login/", headers={"host": host_of(tenant_a)})

        assert response.status_code == 302 and response["Location"] == "/admin/login/"
        shown = " ".join(str(message) for message in get_messages(response.wsgi_request))
        assert "127.0.0.1 is a loopback address" in shown
        assert listener.accepted == 0
