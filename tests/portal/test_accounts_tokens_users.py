"""API tokens and users in the portal (admins): a token's text shown once with a copy button (and a
selectable field without script), never again and never stored; revoking; users added, changed and
deleted through the services, whose refusals (the last admin, an admin's own access) are shown."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from apps.accounts.services.users import user_update
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.portal.conftest import host_of


@pytest.fixture
def admin(tenant_a, signed_in):
    return signed_in(tenant_a, "admin")


def test_a_new_token_is_shown_once_with_a_copy_button_and_works(tenant_a, admin, client):
    response = admin.post("/tokens/", {"user": admin.user.pk, "role": "operator", "name": "ci"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    raw = response.context["created"].raw_token
    assert f'value="{raw}" readonly' in page  # selectable without script
    assert 'data-copy="new-token" hidden' in page and "/static/portal/copy.js" in page
    with tenant_context(tenant_a):
        token = ApiToken.objects.get(name="ci")
        assert raw not in {token.token_hash, token.prefix}
        assert AuditEvent.objects.get(action="token.created").channel == "portal"
    assert raw not in admin.get("/tokens/").content.decode()  # never again
    assert token.prefix in admin.get("/tokens/").content.decode()
    api = client.get("/api/certificates", HTTP_HOST=host_of(tenant_a), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200
    assert raw not in admin.get("/audit/").content.decode()


def test_a_token_above_its_users_role_is_refused_at_the_role_field(tenant_a, admin, portal_user):
    viewer = portal_user(tenant_a, "viewer")
    response = admin.post("/tokens/", {"user": viewer.pk, "role": "admin", "name": "x"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "role" in errors or "user" in errors  # delegation refused, or the role above the user's
    assert "created" not in response.context
    with tenant_context(tenant_a):
        assert not ApiToken.objects.exists()


def test_revoking_a_token(tenant_a, admin):
    admin.post("/tokens/", {"user": admin.user.pk, "role": "viewer", "name": "old"})
    with tenant_context(tenant_a):
        token = ApiToken.objects.get()
    page = admin.post(f"/tokens/{token.pk}/revoke/", follow=True).content.decode()
    assert "it no longer works" in page and "revoked" in page
    with tenant_context(tenant_a):
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert AuditEvent.objects.get(action="token.revoked").channel == "portal"


def test_users_are_added_changed_and_deleted_through_the_services(tenant_a, admin):
    response = admin.post("/users/add/", {"email": "new@alpha.example", "full_name": "New", "role": "operator",
                                          "usable_password": "false"})  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(tenant_a):
        user = User.objects.get(email="new@alpha.example")
    assert "new@alpha.example" in admin.get("/users/").content.decode()
    taken = admin.post("/users/add/", {"email": "NEW@alpha.example", "role": "viewer", "usable_password": "false"})
    assert taken.context["form"].errors["email"]
    response = admin.post(f"/users/{user.pk}/", {"email": user.email, "full_name": "New", "role": "viewer"})
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(tenant_a):
        user.refresh_from_db()
        assert (user.role, user.is_active) == ("viewer", False)  # the box left unticked
    admin.post(f"/users/{user.pk}/delete/")
    with tenant_context(tenant_a):
        assert not User.objects.filter(pk=user.pk).exists()
        actions = list(AuditEvent.objects.filter(object_type="user").values_list("action", "channel"))
    assert ("user.deleted", "portal") in actions and ("user.created", "portal") in actions


def test_the_last_admin_and_an_admins_own_access_are_refused_and_said(tenant_a, admin, portal_user):
    me = admin.user
    with tenant_context(tenant_a):  # the signed-in admin is the tenant's only admin
        for other in User.objects.filter(role="admin").exclude(pk=me.pk):
            user_update(user=other, role="operator", actor=TEST_ACTOR)
    demote = admin.post(f"/users/{me.pk}/", {"email": me.email, "role": "viewer", "is_active": "on"})
    assert demote.status_code == 200
    assert "last active admin" in " ".join(demote.context["form"].errors["role"])
    deactivate = admin.post(f"/users/{me.pk}/", {"email": me.email, "role": "admin"})
    assert "last active admin" in " ".join(deactivate.context["form"].errors["is_active"])
    refused = admin.post(f"/users/{me.pk}/delete/", follow=True).content.decode()
    assert "was not deleted" in refused and "last active admin" in refused
    portal_user(tenant_a, "admin")  # another admin: now it is the own account that is refused
    own = admin.post(f"/users/{me.pk}/", {"email": me.email, "role": "operator", "is_active": "on"})
    assert "your own account" in " ".join(own.context["form"].errors["role"])
    with tenant_context(tenant_a):
        me.refresh_from_db()
        assert (me.role, me.is_active) == ("admin", True)


def test_a_token_limited_to_certificates_from_the_portal(tenant_a, admin, client):
    from tests.factories import accounts, certificate_make

    with tenant_context(tenant_a):
        accounts()
        certificate_make("www.alpha.test")
        certificate_make("db.alpha.test")
    response = admin.post(
        "/tokens/", {"user": admin.user.pk, "role": "viewer", "name": "web", "allowed_domains": "WWW.alpha.test,\n"}
    )
    raw = response.context["created"].raw_token
    with tenant_context(tenant_a):
        assert ApiToken.objects.get(name="web").allowed_domains == ["www.alpha.test"]
    assert "www.alpha.test" in admin.get("/tokens/").content.decode()  # the list shows the scope
    listed = client.get("/api/certificates", HTTP_HOST=host_of(tenant_a), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [row["domain"] for row in listed.json()["certificates"]] == ["www.alpha.test"]
    bad = admin.post("/tokens/", {"user": admin.user.pk, "role": "viewer", "allowed_domains": "not a name"})
    assert "allowed_domains" in bad.context["form"].errors
