"""/api/users: a tenant's admins manage its users; nobody else, and never another tenant's users."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "another-long-passphrase-7"


def audit_actions(tenant, email: str) -> list[str]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(object_name=email).order_by("id").values_list("action", flat=True))


def admin_sign_in(host: str, email: str, password: str) -> bool:
    response = Client().post("/admin/login/", {"username": email, "password": password}, headers={"host": host})
    return response.status_code == 302


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_may_use_it(tenant_a, api_client, api_user, anon_client, role):
    client = api_client(tenant_a, role)
    other = api_user(tenant_a, "viewer")
    for method, path, body in (
        ("get", "/api/users", None),
        ("post", "/api/users", {"email": "x@alpha.test"}),
        ("get", f"/api/users/{other.pk}", None),
        ("patch", f"/api/users/{other.pk}", {"role": "admin"}),
        ("delete", f"/api/users/{other.pk}", None),
    ):
        response = getattr(client, method)(path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), (method, path)
    assert anon_client(tenant_a).get("/api/users").status_code == 401
    with tenant_context(tenant_a):
        assert User.objects.get(pk=other.pk).role == "viewer"
        assert not User.objects.filter(email="x@alpha.test").exists()


def test_admin_creates_reads_changes_and_deletes_a_user(tenant_a, api_client):
    admin = api_client(tenant_a, "admin")
    created = admin.post(
        "/api/users", {"email": " Fay@Alpha.TEST ", "role": "operator", "full_name": "Fay", "password": NEW_PASSWORD}
    )
    assert created.status_code == 201, created.content
    fay = created.json()
    assert {k: fay[k] for k in ("email", "role", "full_name", "is_active", "has_password")} == {
        "email": "fay@alpha.test", "role": "operator", "full_name": "Fay", "is_active": True, "has_password": True,
    }  # fmt: skip
    assert "password" not in fay and NEW_PASSWORD not in created.content.decode()
    assert admin.get(f"/api/users/{fay['id']}").json() == fay
    assert fay["email"] in [row["email"] for row in admin.get("/api/users").json()]
    assert admin_sign_in("alpha.test", "fay@alpha.test", NEW_PASSWORD)

    changed = admin.patch(f"/api/users/{fay['id']}", {"role": "viewer", "full_name": "Fay F.", "is_active": False})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["role"], changed.json()["full_name"], changed.json()["is_active"]) == (
        "viewer",
        "Fay F.",
        False,
    )
    assert not admin_sign_in("alpha.test", "fay@alpha.test", NEW_PASSWORD)
    assert admin.patch(f"/api/users/{fay['id']}", {}).json() == changed.json(), "an empty change changes nothing"

    assert admin.delete(f"/api/users/{fay['id']}").status_code == 204
    assert admin.get(f"/api/users/{fay['id']}").status_code == 404
    assert audit_actions(tenant_a, "fay@alpha.test") == ["user.created", "user.updated", "user.deleted"]


def test_a_user_without_a_password_signs_in_once_one_is_set(tenant_a, api_client):
    admin = api_client(tenant_a, "admin")
    created = admin.post("/api/users", {"email": "gus@alpha.test", "role": "admin"})
    assert created.status_code == 201 and created.json()["has_password"] is False
    assert not admin_sign_in("alpha.test", "gus@alpha.test", "")

    set_now = admin.patch(f"/api/users/{created.json()['id']}", {"password": NEW_PASSWORD})
    assert set_now.status_code == 200 and set_now.json()["has_password"] is True
    assert admin_sign_in("alpha.test", "gus@alpha.test", NEW_PASSWORD)
    removed = admin.patch(f"/api/users/{created.json()['id']}", {"password": None}, format="json")
    assert removed.json()["has_password"] is False
    assert not admin_sign_in("alpha.test", "gus@alpha.test", NEW_PASSWORD)

    with tenant_context(tenant_a):
        changes = list(
            AuditEvent.objects.filter(action="user.password_changed", object_name="gus@alpha.test")
            .order_by("id")
            .values_list("changes", flat=True)
        )
    assert changes == [
        {"password": "changed", "has_password": [False, True]},
        {"password": "changed", "has_password": [True, False]},
    ]


def test_deleting_a_user_deletes_its_tokens(tenant_a, api_client):
    admin = api_client(tenant_a, "admin")
    holder = api_client(tenant_a, "operator")
    assert holder.get("/api/settings").status_code == 200
    assert admin.delete(f"/api/users/{holder.user.pk}").status_code == 204
    assert holder.get("/api/settings").status_code == 401
    with tenant_context(tenant_a):
        assert not ApiToken.objects.filter(pk=holder.token.pk).exists()


def test_an_admin_keeps_their_own_access(tenant_a, api_client):
    admin = api_client(tenant_a, "admin")  # alpha's first admin stays: this one is not the last
    for change in ({"role": "operator"}, {"is_active": False}):
        response = admin.patch(f"/api/users/{admin.user.pk}", change, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "own_account"), change
    assert (admin.delete(f"/api/users/{admin.user.pk}").json()["code"]) == "own_account"
    # What does not take the admin role away is fine.
    assert admin.patch(f"/api/users/{admin.user.pk}", {"full_name": "Me"}).json()["full_name"] == "Me"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a" * 250 + "@alpha.test"}, "email"),
        ({"email": "-rf@alpha.test"}, "email"),
        ({"email": ["x@alpha.test"]}, "email"),
        ({"email": "h@alpha.test", "role": "root"}, "role"),
        ({"email": "h@alpha.test", "full_name": "x" * 201}, "full_name"),
        ({"email": "h@alpha.test", "full_name": "Evil\x1b[31m"}, "full_name"),
        ({"email": "h@alpha.test", "password": "short"}, "password"),
        ({"email": "h@alpha.test", "password": "p" * 300}, "password"),
        ({"email": "h@alpha.test", "password": {"a": 1}}, "password"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(tenant_a, api_client, body, field):
    response = api_client(tenant_a, "admin").post("/api/users", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="h@alpha.test").exists()


@pytest.mark.parametrize(
    "body",
    [{"role": "root"}, {"is_active": "maybe"}, {"full_name": "x" * 201}, {"email": "nope"}, {"password": "1234"}],
)
def test_bad_changes_are_400s_and_change_nothing(tenant_a, api_client, api_user, body):
    target = api_user(tenant_a, "viewer")
    response = api_client(tenant_a, "admin").patch(f"/api/users/{target.pk}", body, format="json")
    assert response.status_code == 400, response.content
    with tenant_context(tenant_a):
        stored = User.objects.get(pk=target.pk)
        assert (stored.email, stored.role, stored.full_name, stored.is_active) == (target.email, "viewer", "", True)
        assert stored.check_password(PASSWORD)


def test_conflicts_and_unknown_users(tenant_a, api_client, api_user):
    admin = api_client(tenant_a, "admin")
    taken = api_user(tenant_a, "viewer")
    duplicate = admin.post("/api/users", {"email": taken.email.upper()})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "user_exists")
    other = api_user(tenant_a, "viewer")
    renamed = admin.patch(f"/api/users/{other.pk}", {"email": taken.email})
    assert (renamed.status_code, renamed.json()["code"]) == (409, "user_exists")
    for path in ("/api/users/999999999", "/api/users/abc", "/api/users/\u0661"):
        assert admin.get(path).status_code == 404
    assert admin.put(f"/api/users/{other.pk}", {"role": "admin"}).status_code == 405
    assert admin.post("/api/users", [1, 2], format="json").status_code == 400


def test_one_tenant_never_sees_or_changes_another_tenants_users(tenant_a, tenant_b, api_client, api_user):
    with tenant_context(tenant_b):
        beta_last = User.objects.order_by("-pk").values_list("pk", flat=True).first()
    # alpha's next user gets an id that no beta user has.
    with tenant_context(tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %s)", [beta_last + 10])
    alpha_user = api_user(tenant_a, "operator")
    beta = api_client(tenant_b, "admin")

    listing = beta.get("/api/users")
    assert listing.status_code == 200 and alpha_user.email.encode() not in listing.content
    assert beta.get(f"/api/users/{alpha_user.pk}").status_code == 404
    assert beta.patch(f"/api/users/{alpha_user.pk}", {"role": "viewer", "is_active": False}).status_code == 404
    assert beta.delete(f"/api/users/{alpha_user.pk}").status_code == 404
    created = beta.post("/api/users", {"email": alpha_user.email, "role": "admin"})
    assert created.status_code == 201, "the same e-mail is another user in another tenant"

    with tenant_context(tenant_a):
        stored = User.objects.get(pk=alpha_user.pk)
        assert (stored.role, stored.is_active, stored.has_usable_password()) == ("operator", True, True)
    assert audit_actions(tenant_a, alpha_user.email) == ["user.created"]
    assert audit_actions(tenant_b, alpha_user.email) == ["user.created"]


def test_a_nul_in_the_clients_user_agent_does_not_fail_the_write(tenant_a, api_client):
    # The User-Agent is the client's to write; the audit event keeps it without what PostgreSQL refuses.
    client = api_client(tenant_a, "admin")
    response = client.post("/api/users", {"email": "agent@alpha.test"}, format="json", HTTP_USER_AGENT="curl\x00/8")
    assert response.status_code == 201, response.content
    with tenant_context(tenant_a):
        event = AuditEvent.objects.get(action="user.created", object_name="agent@alpha.test")
    assert event.user_agent == "curl/8"


@pytest.mark.parametrize(("proxies", "recorded"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_audit_event_records_the_client_as_the_trusted_proxies_say(
    tenant_a, api_client, settings, proxies, recorded
):
    # Behind CERTMATE_API_NUM_PROXIES proxies, the client is the address they wrote; without them, the
    # header is the client's own text and the peer is recorded (as the throttles and sign-in count it).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    client = api_client(tenant_a, "admin")
    email = f"proxied{proxies}@alpha.test"
    response = client.post("/api/users", {"email": email}, format="json", REMOTE_ADDR="127.0.0.1",
                           HTTP_X_FORWARDED_FOR="203.0.113.7")  # fmt: skip
    assert response.status_code == 201, response.content
    with tenant_context(tenant_a):
        assert AuditEvent.objects.get(action="user.created", object_name=email).ip_address == recorded
