"""CertMate's /api/keys over certmate's tokens (list, create with allowed_domains, revoke) and its user edit
by username; admins only; two tenants."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken
from tests.api.conftest import tenant_client
from tests.factories import accounts, certificate_make

CREATED = {"id", "name", "role", "token", "token_prefix", "created_at", "expires_at", "allowed_domains", "is_agent"}
LISTED = {"name", "role", "token_prefix", "created_at", "created_by", "expires_at", "last_used_at", "revoked",
          "is_expired", "allowed_domains", "is_agent"}  # fmt: skip


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def test_create_list_use_and_revoke_a_scoped_key(tenant_a, tenant_b, admin, api_client):
    with tenant_context(tenant_a):
        accounts()
        certificate_make("www.alpha.test")
        certificate_make("db.alpha.test")
    created = admin.post(
        "/api/keys", {"name": "web01", "role": "operator", "allowed_domains": ["www.alpha.test"]}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) >= CREATED and body["allowed_domains"] == ["www.alpha.test"] and body["role"] == "operator"
    keys = admin.get("/api/keys").json()["keys"]
    assert set(keys[body["id"]]) >= LISTED and "token" not in keys[body["id"]]
    assert keys[body["id"]]["allowed_domains"] == ["www.alpha.test"]
    host = tenant_client(tenant_a)
    host.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert [row["domain"] for row in host.get("/api/certificates").json()["certificates"]] == ["www.alpha.test"]
    assert host.get("/api/certificates/db.alpha.test/download?file=cert.pem").status_code == 404
    # Ids are per tenant: tenant B lists only its own tokens, never this key.
    theirs = api_client(tenant_b, "admin").get("/api/keys").json()["keys"].values()
    assert body["token_prefix"] not in {key["token_prefix"] for key in theirs}
    revoked = admin.delete(f"/api/keys/{body['id']}")
    assert revoked.status_code == 200 and revoked.json() == {"message": "API key revoked"}
    assert host.get("/api/certificates").status_code == 401
    assert admin.get("/api/keys").json()["keys"][body["id"]]["revoked"] is True


def test_an_unscoped_key_lists_null(admin):
    body = admin.post("/api/keys", {"name": "all"}, format="json").json()
    assert body["allowed_domains"] is None and body["role"] == "viewer"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x" * 65},
        {"name": "k", "role": "root"},
        {"name": "k", "allowed_domains": []},
        {"name": "k", "allowed_domains": ["not a domain"]},
        {"name": "k", "allowed_domains": "www.alpha.test"},
        {"name": "k", "role": "admin", "allowed_domains": ["www.alpha.test"]},
        {"name": "k", "expires_at": "yesterday"},
    ],
)
def test_bad_keys_are_400(tenant_a, admin, body):
    response = admin.post("/api/keys", body, format="json")
    assert response.status_code == 400, response.content
    with tenant_context(tenant_a):
        assert not ApiToken.objects.filter(name="k").exists()


@pytest.mark.parametrize("key_id", ["999999", "abc", "1" * 40])
def test_unknown_keys_are_404(admin, key_id):
    assert admin.delete(f"/api/keys/{key_id}").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_keys_are_for_admins(tenant_a, api_client, role):
    client = api_client(tenant_a, role)
    assert client.get("/api/keys").status_code == 403
    assert client.post("/api/keys", {"name": "k"}, format="json").status_code == 403


# --- PUT / DELETE /api/users/{username} (the username is the e-mail) ------------------------------


def test_certmate_user_edit_and_delete_by_username(tenant_a, tenant_b, admin, api_user, api_client):
    user = api_user(tenant_a, "viewer")
    changed = admin.put(f"/api/users/{user.email}", {"role": "operator", "enabled": False}, format="json")
    assert changed.status_code == 200 and changed.json() == {"message": "User updated"}
    with tenant_context(tenant_a):
        user.refresh_from_db()
        assert (user.role, user.is_active) == ("operator", False)
    assert admin.put(f"/api/users/{user.email}", {}, format="json").status_code == 400  # nothing to update
    assert admin.put(f"/api/users/{user.email}", {"enabled": "maybe"}, format="json").status_code == 400
    assert api_client(tenant_b, "admin").delete(f"/api/users/{user.email}").status_code == 404
    deleted = admin.delete(f"/api/users/{user.email.upper()}")
    assert deleted.status_code == 200 and deleted.json() == {"message": "User deleted"}
    assert admin.delete(f"/api/users/{user.email}").status_code == 404
    own = admin.delete(f"/api/users/{admin.user.email}")
    assert own.status_code == 409  # one's own account (CertMate: 400)
    assert api_client(tenant_a, "operator").delete(f"/api/users/{admin.user.email}").status_code == 403
