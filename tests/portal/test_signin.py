"""Signing in and out of the portal, changing a password, and resetting a forgotten one by e-mail, on
a tenant's host: through the sign-in lockout, the users service (audited) and the tenant's own host."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.accounts.services.sso import sso_settings_update
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.portal.conftest import browser, host_of

NEW_PASSWORD = "a-brand-new-passphrase-42"
LINK = re.compile(r"https?://(?P<host>[^/\s]+)(?P<path>/password-reset/[^\s]+/)")


def sign_in(client, email: str, password: str, **extra):
    return client.post("/login/", {"username": email, "password": password, **extra})


def test_signing_in_leads_to_the_dashboard_and_signing_out_ends_the_session(tenant_a, portal_user):
    user = portal_user(tenant_a, "operator")
    client = browser(tenant_a)
    response = sign_in(client, user.email.upper(), PASSWORD)  # e-mail addresses in any case
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Dashboard" in client.get("/").content
    assert client.get("/login/")["Location"] == "/"  # signed in already
    assert client.get("/logout/").status_code == 405  # a link elsewhere cannot sign anyone out
    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert b"You are signed out." in response.content
    assert client.get("/")["Location"] == "/login/?next=/"


def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_host(tenant_a, portal_user):
    user = portal_user(tenant_a, "viewer")
    assert sign_in(browser(tenant_a), user.email, PASSWORD, next="/help/")["Location"] == "/help/"
    assert sign_in(browser(tenant_a), user.email, PASSWORD, next="https://evil.example/")["Location"] == "/"


def test_a_wrong_password_is_refused_at_the_form_and_repeated_failures_lock_out(tenant_a, portal_user, settings):
    user = portal_user(tenant_a, "viewer")
    client = browser(tenant_a)
    response = sign_in(client, user.email, "wrong-password")
    assert response.status_code == 200
    assert b"Please enter a correct e-mail address and password" in response.content
    for _ in range(settings.CERTMATE_SIGNIN_FAILURES_PER_USER_ADDRESS):
        response = sign_in(client, user.email, "wrong-password")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert sign_in(client, user.email, PASSWORD).status_code == 429  # even the right one, until the cool-off


def test_an_inactive_user_cannot_sign_in(tenant_a, portal_user):
    user = portal_user(tenant_a, "admin")
    with tenant_context(tenant_a):
        User.objects.filter(pk=user.pk).update(is_active=False)
    assert sign_in(browser(tenant_a), user.email, PASSWORD).status_code == 200


def test_a_tenant_that_signs_in_by_sso_only_refuses_passwords_and_offers_its_provider(tenant_a, portal_user):
    user = portal_user(tenant_a, "admin")
    with tenant_context(tenant_a):
        values = {
            "enabled": True, "name": "Corp IdP", "issuer": "https://idp.example", "client_id": "certmate",
            "client_secret": "s", "scopes": "openid email", "role_claim": "groups",
            "role_values": {"admin": ["admins"]}, "sso_only": True,
        }  # fmt: skip
        sso_settings_update(values=values, actor=Actor.command())
    client = browser(tenant_a)
    page = client.get("/login/?next=/help/").content.decode()
    assert "Sign in with Corp IdP" in page
    assert 'href="/sso/login/?next=/help/"' in page
    assert 'name="password"' not in page
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert "Password sign-in is off for this tenant" in response.content.decode()
    assert client.get("/password-reset/")["Location"] == "/login/"


def test_changing_the_password_goes_through_the_service_and_keeps_the_session(tenant_a, signed_in):
    client = signed_in(tenant_a, "viewer")
    response = client.post(
        "/account/password/",
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    short = {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    response = client.post("/account/password/", short)
    assert "new_password2" in response.context["form"].errors
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Your password was changed." in response.content
    assert client.get("/help/").status_code == 200  # still signed in
    with tenant_context(tenant_a):
        event = AuditEvent.objects.filter(action="user.password_changed", object_name=client.user.email).get()
        assert (event.channel, event.actor_name) == ("portal", client.user.email)
    assert sign_in(browser(tenant_a), client.user.email, NEW_PASSWORD)["Location"] == "/"


def _reset_link(tenant, email: str) -> str:
    client = browser(tenant)
    response = client.post("/password-reset/", {"email": email})
    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match.group("host") == host_of(tenant)  # the tenant's own host
    return match.group("path")


def test_a_forgotten_password_is_reset_through_a_link_sent_by_mail(tenant_a, portal_user):
    user = portal_user(tenant_a, "operator")
    path = _reset_link(tenant_a, user.email)
    assert mail.outbox[0].to == [user.email]
    assert "Alpha" in mail.outbox[0].subject
    client = browser(tenant_a)
    form_url = client.get(path)["Location"]  # Django moves the token into the session
    assert client.get(form_url).context["validlink"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/password-reset/done/"
    assert sign_in(browser(tenant_a), user.email, NEW_PASSWORD)["Location"] == "/"
    assert sign_in(browser(tenant_a), user.email, PASSWORD).status_code == 200  # the old one is gone
    with tenant_context(tenant_a):
        event = AuditEvent.objects.filter(action="user.password_changed", object_name=user.email).get()
        assert (event.channel, event.actor_name) == ("portal", user.email)
    # The link works once.
    again = browser(tenant_a)
    assert not again.get(path).context["validlink"]


def test_a_reset_for_an_unknown_address_or_another_tenants_user_sends_nothing(tenant_a, tenant_b, portal_user):
    user = portal_user(tenant_a, "admin")
    for email in ("nobody@alpha.test", user.email):
        response = browser(tenant_b).post("/password-reset/", {"email": email})
        assert response["Location"] == "/password-reset/sent/"  # the same answer as for a user
    assert mail.outbox == []


def test_reset_mails_are_limited_per_address(tenant_a, portal_user, settings):
    settings.CERTMATE_PASSWORD_RESETS_PER_HOUR = 2
    user = portal_user(tenant_a, "viewer")
    for _ in range(4):
        assert browser(tenant_a).post("/password-reset/", {"email": user.email}).status_code == 302
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("bad", ["", "x" * 300 + "@a.test", "not-an-address", "a\x00b@alpha.test"])
def test_bad_input_in_the_sign_in_forms_is_a_form_error_never_a_500(tenant_a, bad):
    client = browser(tenant_a)
    assert client.post("/login/", {"username": bad, "password": bad or "x" * 1000}).status_code == 200
    assert client.post("/password-reset/", {"email": bad}).status_code == 200
    assert mail.outbox == []
