"""Users, roles and API tokens: the same change through the API and through the tenant's admin has the
same outcome, the same refusal or the same resulting row and audit event (channel api vs admin).

Each face acts on its own tenant, as that tenant's only admin: the API on alpha (a bearer token of
admin@alpha.test), the admin on beta (admin@beta.test signed in on beta's host). Same e-mail addresses
on both sides, so rows and events compare field by field.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, Tenant, User
from apps.accounts.models.tokens import token_hash_of
from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_verify
from tests.conftest import PASSWORD, TENANT_A, TENANT_B

NEW_PASSWORD = "a-new-long-passphrase-42"
ALPHA, BETA = {"host": TENANT_A["domain"]}, {"host": TENANT_B["domain"]}


@pytest.fixture
def api(tenant_a) -> APIClient:
    """The API face: alpha's admin with a token of its own."""
    with tenant_context(tenant_a):
        admin = User.objects.get(email=TENANT_A["admin_email"])
        _, raw = token_create(user=admin, role="admin", name="faces", actor=Actor.command())
    client = APIClient(HTTP_HOST=TENANT_A["domain"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def admin(tenant_b) -> Client:
    """The admin face: beta's admin signed in to beta's admin."""
    client = Client()
    login = {"username": TENANT_B["admin_email"], "password": PASSWORD}
    assert client.post("/admin/login/", login, headers=BETA).status_code == 302
    return client


def user_row(tenant: Tenant, email: str) -> dict:
    with tenant_context(tenant):
        user = User.objects.get(email=email)
        return {
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "password_works": user.check_password(NEW_PASSWORD),
        }


def events(tenant: Tenant, action: str, object_name: str) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action=action, object_name=object_name).order_by("id"))


def only_event(tenant: Tenant, action: str, object_name: str) -> AuditEvent:
    found = events(tenant, action, object_name)
    assert len(found) == 1, (tenant.schema_name, action, object_name, found)
    return found[0]


def assert_same_event(via_api: AuditEvent, via_admin: AuditEvent, *, ignore: tuple = ()) -> None:
    """Same action, object and changes (but the ``ignore``d ones, and an object name in ``ignore``)."""
    assert (via_api.channel, via_admin.channel) == ("api", "admin")
    assert (via_api.actor_name, via_admin.actor_name) == (TENANT_A["admin_email"], TENANT_B["admin_email"])
    assert (via_api.tenant, via_admin.tenant) == ("alpha", "beta")

    def shown(event):
        return (
            event.action,
            event.object_type,
            "" if "object_name" in ignore else event.object_name,
            {k: v for k, v in event.changes.items() if k not in ignore},
        )

    assert shown(via_api) == shown(via_admin)


def both(tenant_a, tenant_b, **fields):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            user_create(**fields, actor=Actor.command())


def test_creating_a_user(api, admin, tenant_a, tenant_b):
    email = "carol@example.test"
    created = api.post(
        "/api/users", {"email": email, "role": "operator", "full_name": "Carol", "password": NEW_PASSWORD}
    )
    added = admin.post(
        "/admin/accounts/user/add/",
        {"email": email, "full_name": "Carol", "role": "operator", "usable_password": "true",
         "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        headers=BETA,
    )  # fmt: skip

    assert created.status_code == 201, created.content
    assert added.status_code == 302, added.content.decode()[:3000]
    row = user_row(tenant_a, email)
    assert row == user_row(tenant_b, email)
    assert row["role"] == "operator" and row["groups"] == ["operator"] and row["password_works"]
    via_api, via_admin = only_event(tenant_a, "user.created", email), only_event(tenant_b, "user.created", email)
    assert_same_event(via_api, via_admin)
    assert via_api.changes["role"] == [None, "operator"] and via_api.changes["has_password"] == [None, True]
    assert NEW_PASSWORD not in str(via_api.changes)


def test_changing_a_role(api, admin, tenant_a, tenant_b):
    email = "dave@example.test"
    both(tenant_a, tenant_b, email=email, password=NEW_PASSWORD, role="viewer", full_name="Dave")
    with tenant_context(tenant_a):
        alpha_id = User.objects.get(email=email).pk
    with tenant_context(tenant_b):
        beta_id = User.objects.get(email=email).pk

    changed = api.patch(f"/api/users/{alpha_id}", {"role": "operator"})
    saved = admin.post(
        f"/admin/accounts/user/{beta_id}/change/",
        {"email": email, "full_name": "Dave", "role": "operator", "is_active": "on"},
        headers=BETA,
    )

    assert changed.status_code == 200 and changed.json()["role"] == "operator", changed.content
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert user_row(tenant_a, email) == user_row(tenant_b, email)
    assert user_row(tenant_a, email)["groups"] == ["operator"]
    via_api, via_admin = only_event(tenant_a, "user.updated", email), only_event(tenant_b, "user.updated", email)
    assert_same_event(via_api, via_admin)
    assert via_api.changes == {"role": ["viewer", "operator"]}


def test_demoting_the_last_admin_is_refused_alike(api, admin, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        alpha_admin = User.objects.get(email=TENANT_A["admin_email"])
    with tenant_context(tenant_b):
        beta_admin = User.objects.get(email=TENANT_B["admin_email"])

    refused = api.patch(f"/api/users/{alpha_admin.pk}", {"role": "viewer"})
    form = admin.post(
        f"/admin/accounts/user/{beta_admin.pk}/change/",
        {"email": beta_admin.email, "full_name": "", "role": "viewer", "is_active": "on"},
        headers=BETA,
    )

    assert refused.status_code == 409
    assert refused.json() == {
        "error": f"{alpha_admin.email} is this tenant's last active admin and cannot be demoted: make another "
        "user admin first",
        "code": "last_admin",
    }
    assert form.status_code == 200
    assert f"{beta_admin.email} is this tenant&#x27;s last active admin and cannot be demoted" in form.content.decode()
    assert user_row(tenant_a, alpha_admin.email)["role"] == user_row(tenant_b, beta_admin.email)["role"] == "admin"
    assert events(tenant_a, "user.updated", alpha_admin.email) == []
    assert events(tenant_b, "user.updated", beta_admin.email) == []


def test_an_admin_cannot_demote_or_delete_themself_alike(api, admin, tenant_a, tenant_b):
    both(tenant_a, tenant_b, email="erin@example.test", password=NEW_PASSWORD, role="admin")  # not the last one
    with tenant_context(tenant_a):
        alpha_admin = User.objects.get(email=TENANT_A["admin_email"])
    with tenant_context(tenant_b):
        beta_admin = User.objects.get(email=TENANT_B["admin_email"])

    demoted = api.patch(f"/api/users/{alpha_admin.pk}", {"is_active": False})
    form = admin.post(
        f"/admin/accounts/user/{beta_admin.pk}/change/",
        {"email": beta_admin.email, "full_name": "", "role": "admin"},  # is_active unticked
        headers=BETA,
    )
    deleted = api.delete(f"/api/users/{alpha_admin.pk}")
    removed = admin.post(f"/admin/accounts/user/{beta_admin.pk}/delete/", {"post": "yes"}, headers=BETA, follow=True)

    assert (demoted.status_code, demoted.json()["code"]) == (409, "own_account")
    assert (deleted.status_code, deleted.json()["code"]) == (409, "own_account")
    assert form.status_code == 200 and "you cannot have your own account deactivated" in form.content.decode()
    assert removed.status_code == 200 and "you cannot have your own account deleted" in removed.content.decode()
    assert user_row(tenant_a, alpha_admin.email) == {**user_row(tenant_b, beta_admin.email), "email": alpha_admin.email}
    assert user_row(tenant_a, alpha_admin.email)["is_active"]
    for tenant, email in ((tenant_a, alpha_admin.email), (tenant_b, beta_admin.email)):
        assert events(tenant, "user.updated", email) == events(tenant, "user.deleted", email) == []


def test_creating_and_revoking_an_api_token(api, admin, tenant_a, tenant_b):
    created = api.post("/api/tokens", {"name": "deploy", "role": "viewer"})
    with tenant_context(tenant_b):
        beta_admin = User.objects.get(email=TENANT_B["admin_email"])
    added = admin.post(
        "/admin/accounts/apitoken/add/",
        {"user": beta_admin.pk, "role": "viewer", "name": "deploy", "expires_at_0": "", "expires_at_1": ""},
        headers=BETA,
    )

    assert created.status_code == 201, created.content
    assert added.status_code == 200, added.content.decode()[:3000]
    raw_api, raw_admin = created.json()["token"], re.search(r'id="api-token">(cm_[^<]+)<', added.content.decode())[1]
    rows = {}
    for tenant, raw in ((tenant_a, raw_api), (tenant_b, raw_admin)):
        with tenant_context(tenant):
            token = ApiToken.objects.select_related("user", "created_by").get(token_hash=token_hash_of(raw))
            rows[tenant.schema_name] = token
    alpha, beta = rows["alpha"], rows["beta"]
    assert (alpha.name, alpha.role, alpha.expires_at, alpha.revoked_at) == ("deploy", "viewer", None, None)
    assert (beta.name, beta.role, beta.expires_at, beta.revoked_at) == ("deploy", "viewer", None, None)
    assert (alpha.user.email, alpha.created_by.email) == (TENANT_A["admin_email"],) * 2
    assert (beta.user.email, beta.created_by.email) == (TENANT_B["admin_email"],) * 2

    made_api, made_admin = (
        only_event(tenant_a, "token.created", str(alpha)),
        only_event(tenant_b, "token.created", str(beta)),
    )
    # A token's name shows its prefix: random, so it differs, like the prefix recorded.
    assert_same_event(made_api, made_admin, ignore=("prefix", "user", "object_name"))
    assert made_api.changes["prefix"] == [None, alpha.prefix] and made_admin.changes["prefix"] == [None, beta.prefix]
    assert made_api.changes["user"] == [None, TENANT_A["admin_email"]]
    assert made_api.changes["expires_at"] == [None, None], "recorded: it never expires"
    assert raw_api not in str(made_api.changes) and raw_admin not in str(made_admin.changes)

    assert api.delete(f"/api/tokens/{alpha.pk}").status_code == 204
    action = {"action": "revoke", "_selected_action": [beta.pk]}
    assert admin.post("/admin/accounts/apitoken/", action, headers=BETA).status_code == 302

    for tenant, token in ((tenant_a, alpha), (tenant_b, beta)):
        with tenant_context(tenant):
            token.refresh_from_db()
            assert token.revoked_at is not None
    revoked_api = only_event(tenant_a, "token.revoked", str(alpha))
    revoked_admin = only_event(tenant_b, "token.revoked", str(beta))
    assert_same_event(revoked_api, revoked_admin, ignore=("revoked_at", "object_name"))
    assert revoked_api.changes["revoked_at"] == [None, alpha.revoked_at.isoformat()]
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert audit_verify().ok


def test_setting_a_password(api, admin, tenant_a, tenant_b):
    email = "fred@example.test"
    both(tenant_a, tenant_b, email=email, role="viewer")  # no password: single sign-on only
    ids = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            ids[tenant.schema_name] = User.objects.get(email=email).pk

    changed = api.patch(f"/api/users/{ids['alpha']}", {"password": NEW_PASSWORD})
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    saved = admin.post(f"/admin/accounts/user/{ids['beta']}/password/", form, headers=BETA)
    too_short = admin.post(
        f"/admin/accounts/user/{ids['beta']}/password/",
        {"usable_password": "true", "password1": "short", "password2": "short"},
        headers=BETA,
    )

    assert changed.status_code == 200 and changed.json()["has_password"] is True
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert too_short.status_code == 200 and "This password is too short" in too_short.content.decode()
    assert user_row(tenant_a, email) == user_row(tenant_b, email)
    assert user_row(tenant_a, email)["password_works"]
    via_api = only_event(tenant_a, "user.password_changed", email)
    via_admin = only_event(tenant_b, "user.password_changed", email)
    assert_same_event(via_api, via_admin)
    assert via_api.changes == {"password": "changed", "has_password": [False, True]}


def test_deleting_a_user(api, admin, tenant_a, tenant_b):
    email = "gina@example.test"
    both(tenant_a, tenant_b, email=email, role="operator", full_name="Gina")
    ids = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            ids[tenant.schema_name] = User.objects.get(email=email).pk

    assert api.delete(f"/api/users/{ids['alpha']}").status_code == 204
    removed = admin.post(f"/admin/accounts/user/{ids['beta']}/delete/", {"post": "yes"}, headers=BETA)

    assert removed.status_code == 302
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert not User.objects.filter(email=email).exists()
    via_api, via_admin = only_event(tenant_a, "user.deleted", email), only_event(tenant_b, "user.deleted", email)
    assert_same_event(via_api, via_admin)
    assert via_api.changes["role"] == ["operator", None] and via_api.object_id == str(ids["alpha"])
