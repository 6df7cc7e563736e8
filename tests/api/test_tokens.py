"""API tokens: created once in clear, stored as a hash, refused once revoked or expired."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from apps.accounts.models.tokens import token_hash_of
from apps.accounts.services.tokens import token_authenticate, token_create, token_revoke
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A

WHOAMI = "/api/settings"  # any endpoint a viewer may read


def run_token(*args: str) -> str:
    out = StringIO()
    call_command("token", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_creates_lists_and_revokes(tenant_a, anon_client):
    raw = run_token(
        "create",
        "--tenant",
        "alpha",
        "--user",
        TENANT_A["admin_email"],
        "--role",
        "operator",
        "--expires-days",
        "30",
        "--name",
        "deploy",
    ).splitlines()[-1]
    assert raw.startswith("cm_") and len(raw) > 40
    client = anon_client(tenant_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(WHOAMI).status_code == 200

    listing = run_token("list", "--tenant", "alpha")
    assert raw[:12] in listing and "deploy" in listing and "operator" in listing
    assert raw not in listing

    assert "revoked token" in run_token("revoke", "--tenant", "alpha", "--prefix", raw[:12])
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json() == {"error": "the token was revoked", "code": "authentication_failed"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody@alpha.test", "--role", "viewer"], "no user with e-mail 'nobody@alpha.test'"),
        (["--user", TENANT_A["admin_email"], "--role", "viewer", "--expires-days", "0"], "between 1 and 3650"),
    ],
)
def test_command_errors_are_one_line(tenant_a, args, message):
    with pytest.raises(CommandError, match=message):
        run_token("create", "--tenant", "alpha", *args)


def test_command_refuses_unknown_tenant_and_prefix(tenant_a):
    with pytest.raises(CommandError, match="no tenant with slug 'nope'"):
        run_token("list", "--tenant", "nope")
    with pytest.raises(CommandError, match="no token with prefix 'cm_zzz'"):
        run_token("revoke", "--tenant", "alpha", "--prefix", "cm_zzz")


def test_command_refuses_a_role_above_the_user(tenant_a, api_user):
    viewer = api_user(tenant_a, "viewer")
    with pytest.raises(CommandError, match="is only viewer"):
        run_token("create", "--tenant", "alpha", "--user", viewer.email, "--role", "admin")


def test_only_the_hash_is_stored(tenant_a, api_user):
    user = api_user(tenant_a, "admin")
    with tenant_context(tenant_a):
        token, raw = token_create(user=user, role="admin", name="ci", actor=Actor.command())
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM accounts_apitoken WHERE id = %s", [token.pk])
            row = cursor.fetchone()
    stored = " ".join(str(value) for value in row)
    assert raw not in stored and raw[12:] not in stored
    assert token.token_hash in stored and raw[:12] in stored


def test_services_revoke_is_idempotent_and_authenticate_refuses(tenant_a, api_user):
    user = api_user(tenant_a, "operator")
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as refused:
            token_create(user=user, role="admin", actor=Actor.command())
        assert refused.value.code == "role_above_user"
        token, raw = token_create(user=user, role="viewer", actor=Actor.command())
        assert token_authenticate(raw=raw) == token
        first = token_revoke(token=token, actor=Actor.command()).revoked_at
        assert token_revoke(token=token, actor=Actor.command()).revoked_at == first
        assert token_authenticate(raw=raw) is None
        assert token_authenticate(raw="cm_" + "x" * 43) is None
        assert token_authenticate(raw="") is None


def test_last_use_is_recorded_at_most_once_a_minute(tenant_a, api_client):
    client = api_client(tenant_a, "viewer")
    assert client.get(WHOAMI).status_code == 200
    with tenant_context(tenant_a):
        first = ApiToken.objects.get(pk=client.token.pk).last_used_at
    assert first is not None
    assert client.get(WHOAMI).status_code == 200
    with tenant_context(tenant_a):
        assert ApiToken.objects.get(pk=client.token.pk).last_used_at == first
        ApiToken.objects.filter(pk=client.token.pk).update(last_used_at=first - timedelta(minutes=2))
    assert client.get(WHOAMI).status_code == 200
    with tenant_context(tenant_a):
        assert ApiToken.objects.get(pk=client.token.pk).last_used_at > first


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "the token has expired"),
        ({"revoked_at": timezone.now()}, "the token was revoked"),
    ],
)
def test_expired_and_revoked_tokens_get_401(tenant_a, api_client, spoil, message):
    client = api_client(tenant_a, "admin")
    with tenant_context(tenant_a):
        ApiToken.objects.filter(pk=client.token.pk).update(**spoil)
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json() == {"error": message, "code": "authentication_failed"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_inactive_users_tokens_stop_working(tenant_a, api_client):
    client = api_client(tenant_a, "admin")
    with tenant_context(tenant_a):
        User.objects.filter(pk=client.user.pk).update(is_active=False)
    response = client.get(WHOAMI)
    assert (response.status_code, response.json()["error"]) == (401, "the token's user is inactive")


def test_a_demoted_users_token_follows_the_user(tenant_a, api_client):
    client = api_client(tenant_a, "admin")
    assert client.get("/api/tokens").status_code == 200
    with tenant_context(tenant_a):
        User.objects.filter(pk=client.user.pk).update(role="viewer")
    response = client.get("/api/tokens")
    assert response.status_code == 403
    assert response.json() == {
        "error": "GET /api/tokens needs the admin role; this token has viewer",
        "code": "permission_denied",
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer cm_unknown", "bearer cm_" + "A" * 43, "Bearer nottoken"],
)
def test_bad_bearer_headers_get_401(tenant_a, anon_client, header):
    client = anon_client(tenant_a)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_api_creates_lists_and_revokes_tokens(tenant_a, api_client, api_user, anon_client, settings):
    settings.CERTMATE_API_TOKEN_DELEGATION = True  # a token for someone else (off by default)
    admin = api_client(tenant_a, "admin")
    operator = api_user(tenant_a, "operator")
    response = admin.post(
        "/api/tokens", {"name": "deploy", "role": "viewer", "expires_days": 7, "user": operator.email.upper()}
    )
    assert response.status_code == 201, response.content
    created = response.json()
    raw = created.pop("token")
    assert created["user"] == operator.email and created["role"] == "viewer"
    assert created["created_by"] == admin.user.email  # made for someone else: who made it is kept
    assert created["prefix"] == raw[:12] and created["revoked_at"] is None
    assert timedelta(days=6) < timezone.datetime.fromisoformat(created["expires_at"]) - timezone.now() <= timedelta(7)

    listing = admin.get("/api/tokens")
    assert raw.encode() not in listing.content and b"token_hash" not in listing.content
    assert created["id"] in [row["id"] for row in listing.json()]
    assert admin.get(f"/api/tokens/{created['id']}").json()["prefix"] == raw[:12]

    holder = anon_client(tenant_a)
    holder.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert holder.get(WHOAMI).status_code == 200
    assert admin.delete(f"/api/tokens/{created['id']}").status_code == 204
    assert holder.get(WHOAMI).status_code == 401
    again = admin.post(f"/api/tokens/{created['id']}/revoke")
    assert again.status_code == 200 and again.json()["revoked_at"] is not None


def test_api_token_for_the_caller_by_default_and_never_above_its_user(tenant_a, api_client, api_user, settings):
    settings.CERTMATE_API_TOKEN_DELEGATION = True
    admin = api_client(tenant_a, "admin")
    mine = admin.post("/api/tokens", {"role": "operator", "expires_at": (timezone.now() + timedelta(400)).isoformat()})
    assert mine.status_code == 201 and mine.json()["user"] == admin.user.email
    viewer = api_user(tenant_a, "viewer")
    above = admin.post("/api/tokens", {"role": "admin", "user": viewer.email})
    assert above.status_code == 400
    assert above.json() == {
        "error": f"a token cannot have the admin role: its user {viewer.email} is only viewer",
        "code": "role_above_user",
    }
    both = admin.post("/api/tokens", {"role": "viewer", "expires_days": 1, "expires_at": "2099-01-01T00:00:00Z"})
    assert both.status_code == 400 and both.json()["code"] == "conflict"
    stranger = admin.post("/api/tokens", {"role": "viewer", "user": "admin@beta.test"})
    assert stranger.status_code == 400
    assert stranger.json()["fields"] == {"user": ["no active user with e-mail admin@beta.test"]}


def test_tenant_admin_lists_and_revokes_tokens_without_their_hash(tenant_a, api_client, client):
    holder = api_client(tenant_a, "operator")
    host = {"host": TENANT_A["domain"]}
    login = {"username": TENANT_A["admin_email"], "password": PASSWORD}
    assert client.post("/admin/login/", login, headers=host).status_code == 302
    page = client.get("/admin/accounts/apitoken/", headers=host)
    assert page.status_code == 200
    assert holder.raw_token[:12].encode() in page.content
    assert holder.token.token_hash.encode() not in page.content and holder.raw_token.encode() not in page.content
    detail = client.get(f"/admin/accounts/apitoken/{holder.token.pk}/change/", headers=host)
    assert detail.status_code == 200 and holder.token.token_hash.encode() not in detail.content
    # A token made in the admin shows its text once, on the answer to the form, and never again.
    with tenant_context(tenant_a):
        admin_user = User.objects.get(email=TENANT_A["admin_email"])
    form = {"user": admin_user.pk, "role": "viewer", "name": "from-admin", "expires_at_0": "", "expires_at_1": ""}
    created = client.post("/admin/accounts/apitoken/add/", form, headers=host)
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    raw = re.search(rb'id="api-token">(cm_[^<]+)<', created.content).group(1).decode()
    with tenant_context(tenant_a):
        made = ApiToken.objects.get(name="from-admin")
    assert made.token_hash == token_hash_of(raw) and made.prefix == raw[:12]
    assert raw.encode() not in client.get(f"/admin/accounts/apitoken/{made.pk}/change/", headers=host).content
    assert raw.encode() not in client.get("/admin/accounts/apitoken/", headers=host).content

    action = {"action": "revoke", "_selected_action": [holder.token.pk]}
    assert client.post("/admin/accounts/apitoken/", action, headers=host).status_code == 302
    assert holder.get(WHOAMI).status_code == 401
