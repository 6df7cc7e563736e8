"""Signing in to a tenant's admin through its own OpenID Connect provider, against real providers
(django-oauth-toolkit in their own processes, over TLS on loopback): roles from the provider's groups,
refusals with a reason, and nothing one tenant's provider issues opens another tenant's door."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client, RequestFactory
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from certmate.audit.models import AuditEvent
from tests.accounts.conftest import ALPHA_CLIENT, ALPHA_ROLES, BETA_CLIENT, sso_configure
from tests.accounts.sso_browser import Browser
from tests.conftest import PASSWORD, TENANT_A, TENANT_B

# Real OpenID Connect providers run as child processes (tests/oidc_provider).
pytestmark = pytest.mark.tools


ALPHA, BETA = TENANT_A["domain"], TENANT_B["domain"]


@pytest.fixture
def failed_sign_ins():
    """What the sign-in lockout (django-axes listens to this signal) is told."""
    seen = []

    def record(sender, credentials, request=None, **kwargs):
        seen.append((credentials.get("username"), request.get_host() if request else None))

    user_login_failed.connect(record)
    yield seen
    user_login_failed.disconnect(record)


def refusal(response) -> str:
    """The message on the sign-in page certmate sent the browser back to."""
    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_sign_in_page_offers_the_tenant_provider(sso_tenants, client):
    """``client``: any browser; both pages are public."""
    alpha_page = client.get("/admin/login/", headers={"host": ALPHA}).content.decode()
    beta_page = client.get("/admin/login/", headers={"host": BETA}).content.decode()
    assert "Sign in with Alpha Login" in alpha_page and 'href="/sso/login/' in alpha_page
    assert "Sign in with Beta Login" in beta_page and "Alpha Login" not in beta_page
    assert 'name="password"' in alpha_page, "passwords still work unless the tenant is SSO only"


def test_admin_from_the_provider_lands_in_the_admin_with_the_mapped_role(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    response = browser.sign_in("ann")

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert browser.signed_in_email() == "ann@alpha.example"
    with tenant_context(sso_tenants[0]):
        ann = User.objects.get(email="ann@alpha.example")
        assert (ann.role, ann.is_staff, ann.is_superuser) == ("admin", True, True)
        assert not ann.has_usable_password(), "created just in time, without a password"
    with tenant_context(sso_tenants[1]):
        assert not User.objects.filter(email="ann@alpha.example").exists()


def test_operator_group_gives_operator_and_roles_follow_the_provider(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    browser.sign_in("otto")
    with tenant_context(sso_tenants[0]):
        assert User.objects.get(email="otto@alpha.example").role == "operator"
        # The provider moves otto's group to admins: the next sign-in brings certmate in step.
        promoted = {**ALPHA_ROLES, "operator": [], "admin": ["certmate-ops"]}
        sso_configure(sso_tenants[0], idp_alpha, ALPHA_CLIENT, promoted, name="A")
    browser.client.logout()
    browser.sign_in("otto")
    with tenant_context(sso_tenants[0]):
        otto = User.objects.get(email="otto@alpha.example")
        assert (otto.role, otto.is_superuser) == ("admin", True)
        # The provider acted, on the portal channel: created otto, then changed its role.
        events = AuditEvent.objects.filter(object_type="user", object_name=otto.email).order_by("id")
        assert [(e.action, e.channel, e.actor_name) for e in events] == [
            ("user.created", "portal", "single sign-on (Alpha Login)"),
            ("user.updated", "portal", "single sign-on (A)"),
        ]
        assert events[1].changes == {"role": ["operator", "admin"]}


def test_user_whose_groups_map_to_no_role_is_refused(sso_tenants, idp_alpha, failed_sign_ins):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    response = browser.sign_in("nora")

    message = refusal(response)
    assert "nora@alpha.example may not use certmate" in message and "'groups' claim" in message
    assert browser.signed_in_email() is None
    with tenant_context(sso_tenants[0]):
        assert not User.objects.filter(email="nora@alpha.example").exists()
    assert failed_sign_ins == [("nora@alpha.example", ALPHA)], "counts toward the sign-in lockout"


def test_the_message_shows_on_the_sign_in_page(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    browser.sign_in("nora")
    page = browser.client.get("/admin/login/", headers={"host": ALPHA}).content.decode()
    assert "Single sign-on refused: nora@alpha.example may not use certmate" in page


def test_a_code_from_beta_provider_is_refused_at_alpha(sso_tenants, idp_alpha, idp_beta, failed_sign_ins):
    """Alpha's sign-in started (its state is in the session); the code comes from beta's provider."""
    alpha = Browser(ALPHA, idp_alpha.ca_bundle)
    alpha_state = parse_qs(urlsplit(alpha.start()).query)["state"][0]
    beta = Browser(BETA, idp_beta.ca_bundle)
    beta_code = parse_qs(urlsplit(beta.at_provider(beta.start(), "bea")).query)["code"][0]

    response = alpha.certmate(f"/sso/callback/?code={beta_code}&state={alpha_state}")

    message = refusal(response)
    assert "identity provider at 127.0.0.1 answered HTTP 400" in message
    assert "invalid_grant" not in message, "the provider's answer is not repeated"
    assert alpha.signed_in_email() is None
    with tenant_context(sso_tenants[0]):
        assert not User.objects.filter(email="bea@beta.example").exists()
    assert len(failed_sign_ins) == 1


def test_beta_provider_signs_beta_users_into_beta_only(sso_tenants, idp_beta):
    beta = Browser(BETA, idp_beta.ca_bundle)
    response = beta.sign_in("bea")
    assert response["Location"] == "/admin/"
    assert beta.signed_in_email() == "bea@beta.example"
    # The same session cookie on alpha's host is nobody there.
    cookie = beta.client.cookies["sessionid"].value
    stranger = Browser(ALPHA, idp_beta.ca_bundle)
    stranger.client.cookies["sessionid"] = cookie
    assert stranger.signed_in_email() is None
    with tenant_context(sso_tenants[0]):
        assert not User.objects.filter(email="bea@beta.example").exists()


def test_each_tenant_sends_its_users_to_its_own_provider(sso_tenants, idp_alpha, idp_beta):
    alpha_url = urlsplit(Browser(ALPHA, idp_alpha.ca_bundle).start())
    beta_url = urlsplit(Browser(BETA, idp_beta.ca_bundle).start())
    assert f"{alpha_url.scheme}://{alpha_url.netloc}/o" == idp_alpha.issuer
    assert f"{beta_url.scheme}://{beta_url.netloc}/o" == idp_beta.issuer
    alpha_query, beta_query = parse_qs(alpha_url.query), parse_qs(beta_url.query)
    assert alpha_query["client_id"] == [ALPHA_CLIENT["client_id"]]
    assert beta_query["client_id"] == [BETA_CLIENT["client_id"]]
    assert alpha_query["redirect_uri"] == ["http://alpha.test/sso/callback/"]
    assert alpha_query["code_challenge_method"] == ["S256"] and alpha_query["nonce"] != beta_query["nonce"]


def test_a_callback_cannot_be_replayed(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    callback = browser.at_provider(browser.start(), "ann")
    assert browser.certmate(callback)["Location"] == "/admin/"
    browser.client.logout()
    assert refusal(browser.certmate(callback))
    assert browser.signed_in_email() is None


def test_a_callback_in_another_browser_is_refused(sso_tenants, idp_alpha):
    """The state lives in the session that started the sign-in: a stolen callback URL opens nothing."""
    victim = Browser(ALPHA, idp_alpha.ca_bundle)
    callback = victim.at_provider(victim.start(), "ann")
    attacker = Browser(ALPHA, idp_alpha.ca_bundle)
    assert refusal(attacker.certmate(callback))
    assert attacker.signed_in_email() is None


def test_provider_error_is_refused(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    state = parse_qs(urlsplit(browser.start()).query)["state"][0]
    response = browser.certmate(f"/sso/callback/?error=access_denied&state={state}")
    assert "did not sign you in" in refusal(response)


def test_sso_only_refuses_the_password_form(sso_platform, tenant_a, tenant_b, client, idp_alpha):
    """``client`` is a browser on alpha's host."""
    sso_configure(tenant_a, idp_alpha, ALPHA_CLIENT, ALPHA_ROLES, name="Alpha Login", sso_only=True)
    credentials = {"username": TENANT_A["admin_email"], "password": PASSWORD, "next": "/admin/"}

    response = client.post("/admin/login/", credentials, headers={"host": ALPHA})

    assert response.status_code == 200
    assert "Password sign-in is off for this tenant" in response.content.decode()
    assert client.get("/admin/", headers={"host": ALPHA}).status_code == 302
    page = client.get("/admin/login/", headers={"host": ALPHA}).content.decode()
    assert "Sign in with Alpha Login" in page and 'name="password"' not in page
    # Beta is not SSO only: its admin still signs in with a password.
    beta = {"username": TENANT_B["admin_email"], "password": PASSWORD, "next": "/admin/"}
    assert Client().post("/admin/login/", beta, headers={"host": BETA}).status_code == 302
    # Whatever form asks, the password backend refuses alpha's users.

    request = RequestFactory().post("/admin/login/", HTTP_HOST=ALPHA)
    with tenant_context(tenant_a):
        assert authenticate(request, username=TENANT_A["admin_email"], password=PASSWORD) is None
    # …and the provider still signs them in.
    assert Browser(ALPHA, idp_alpha.ca_bundle).sign_in("ann")["Location"] == "/admin/"


def test_failed_sso_sign_ins_lock_the_address_out_of_that_tenant(sso_tenants, idp_alpha, idp_beta, settings):
    settings.CERTMATE_SIGNIN_FAILURES_PER_ADDRESS = 3
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    for _attempt in range(2):
        assert "may not use certmate" in refusal(browser.sign_in("nora"))
    assert browser.sign_in("nora").status_code == 429, "the failure that reaches the limit is answered 429"

    # From this address nobody starts or finishes a sign-in through alpha's provider now…
    locked = Browser(ALPHA, idp_alpha.ca_bundle)
    assert locked.client.get("/sso/login/", headers={"host": ALPHA}).status_code == 429
    assert locked.client.get("/sso/callback/?code=x&state=y", headers={"host": ALPHA}).status_code == 429
    # …nor with a password; beta's sign-in counts are its own.
    password = {"username": TENANT_A["admin_email"], "password": PASSWORD}
    assert Client().post("/admin/login/", password, headers={"host": ALPHA}).status_code == 429
    assert Browser(BETA, idp_beta.ca_bundle).sign_in("bea")["Location"] == "/admin/"


def test_a_provider_the_egress_rule_refuses_is_never_contacted(sso_tenants, idp_alpha, settings):
    """Configured while the platform allowed loopback; then the platform stops allowing it."""
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    callback = browser.at_provider(browser.start(), "ann")  # discovery read and cached, code issued
    requests_seen = idp_alpha.log_text().count('HTTP/1.1"')
    assert requests_seen > 0, "the provider logs each request"
    settings.CERTMATE_EGRESS_ALLOW = []

    finished = browser.certmate(callback)
    cache.clear()
    started = browser.client.get("/sso/login/", headers={"host": ALPHA})

    assert "127.0.0.1" in refusal(finished) and browser.signed_in_email() is None
    assert "127.0.0.1" in refusal(started)
    assert idp_alpha.log_text().count('HTTP/1.1"') == requests_seen, "no request reached the provider"


def test_a_discovery_document_naming_another_issuer_is_refused(sso_tenants, idp_alpha, failed_sign_ins):
    """The same provider reached under another name: its discovery document names 127.0.0.1."""
    other_name = idp_alpha.issuer.replace("127.0.0.1", "localhost")
    sso_configure(sso_tenants[0], idp_alpha, ALPHA_CLIENT, ALPHA_ROLES, name="Alpha Login", issuer=other_name)
    response = Browser(ALPHA, idp_alpha.ca_bundle).client.get("/sso/login/", headers={"host": ALPHA})
    assert "names another issuer than the one configured" in refusal(response)
    assert failed_sign_ins == [], "nobody tried to sign in yet: the provider's fault is not a failed sign-in"


def test_sign_in_never_sends_the_browser_to_another_site(sso_tenants, idp_alpha):
    browser = Browser(ALPHA, idp_alpha.ca_bundle)
    assert browser.sign_in("ann", next_url="https://evil.example/admin/")["Location"] == "/admin/"
    browser.client.logout()
    assert browser.sign_in("ann", next_url="/admin/accounts/")["Location"] == "/admin/accounts/"
