"""Single sign-on in the tenant's admin: saved through the service, the client secret write-only, bad
values shown as form errors, and each tenant's page its own."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import SsoSettings
from apps.accounts.services.users import user_create
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, TENANT_A, TENANT_B

ALPHA, BETA = {"host": TENANT_A["domain"]}, {"host": TENANT_B["domain"]}
SECRET = "admin-form-secret-marker-3b7c"
FORM = {
    "enabled": "on",
    "name": "Alpha Login",
    "issuer": "https://127.0.0.1:8443/o",
    "client_id": "certmate-alpha",
    "client_secret": SECRET,
    "scopes": "openid email groups",
    "role_claim": "groups",
    "admin_values": "certmate-admins\n",
    "operator_values": "certmate-ops\r\nops",
    "viewer_values": "",
}


def signed_in(client, host: dict, email: str):
    response = client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host)
    assert response.status_code == 302
    return client


def test_admin_configures_sso_and_never_sees_the_secret_again(client, tenant_a, tenant_b):
    admin = signed_in(client, ALPHA, TENANT_A["admin_email"])

    response = admin.post("/admin/accounts/ssosettings/add/", FORM, headers=ALPHA)

    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a):
        config = SsoSettings.objects.get()
        assert (config.enabled, config.client_secret) == (True, SECRET)
        assert config.role_values == {"admin": ["certmate-admins"], "operator": ["certmate-ops", "ops"], "viewer": []}
    page = admin.get(f"/admin/accounts/ssosettings/{config.pk}/change/", headers=ALPHA).content.decode()
    assert "certmate-alpha" in page and SECRET not in page
    assert "http://alpha.test/sso/callback/" in page, "the redirect URI to register is shown"
    # Saving again without typing the secret keeps it.
    kept = admin.post(f"/admin/accounts/ssosettings/{config.pk}/change/", {**FORM, "client_secret": ""}, headers=ALPHA)
    assert kept.status_code == 302
    with tenant_context(tenant_a):
        assert SsoSettings.objects.get().client_secret == SECRET
        # One event: the second save changed nothing. The secret is recorded as changed, never shown.
        (event,) = AuditEvent.objects.filter(action="sso_settings.updated", object_id=str(config.pk))
        assert (event.channel, event.actor_name) == ("admin", TENANT_A["admin_email"])
        assert event.changes["client_secret"] == "changed" and event.changes["enabled"] == [False, True]
        assert SECRET not in str(event.changes)
    with tenant_context(tenant_b):
        assert not SsoSettings.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"issuer": "http://127.0.0.1:8443/o"}, "must be an https:// URL"),
        ({"scopes": "email"}, "must include openid"),
        ({"admin_values": "", "operator_values": ""}, "map at least one claim value to a role"),
        ({"client_secret": ""}, "is required to turn single sign-on on"),
    ],
)
def test_bad_values_are_form_errors_and_the_typed_secret_is_not_echoed(client, tenant_a, change, error):
    admin = signed_in(client, ALPHA, TENANT_A["admin_email"])
    response = admin.post("/admin/accounts/ssosettings/add/", {**FORM, **change}, headers=ALPHA)
    page = response.content.decode()
    assert response.status_code == 200 and error in page
    assert SECRET not in page
    with tenant_context(tenant_a):
        assert not SsoSettings.objects.exists()


def test_operators_cannot_open_it(client, tenant_a):
    with tenant_context(tenant_a):
        user_create(email="ops@alpha.test", password=PASSWORD, role="operator", actor=Actor.command())
    operator = signed_in(client, ALPHA, "ops@alpha.test")
    assert operator.get("/admin/accounts/ssosettings/add/", headers=ALPHA).status_code == 403


def test_platform_operator_restores_password_sign_in_from_the_command_line(client, tenant_a, tenant_b):
    from io import StringIO

    from django.core.management import call_command

    admin = signed_in(client, ALPHA, TENANT_A["admin_email"])
    admin.post("/admin/accounts/ssosettings/add/", {**FORM, "sso_only": "on"}, headers=ALPHA)
    credentials = {"username": TENANT_A["admin_email"], "password": PASSWORD}
    assert "Password sign-in is off" in Client().post("/admin/login/", credentials, headers=ALPHA).content.decode()

    shown, restored = StringIO(), StringIO()
    call_command("sso", "show", "alpha", stdout=shown)
    call_command("sso", "password-signin", "alpha", stdout=restored)

    assert "SSO only: True" in shown.getvalue() and "client secret: stored" in shown.getvalue()
    assert SECRET not in shown.getvalue()
    assert "password sign-in is on again" in restored.getvalue()
    assert Client().post("/admin/login/", credentials, headers=ALPHA).status_code == 302


def test_a_tenant_without_sso_offers_none(client, tenant_a, tenant_b):
    admin = signed_in(Client(), ALPHA, TENANT_A["admin_email"])
    admin.post("/admin/accounts/ssosettings/add/", FORM, headers=ALPHA)

    assert client.get("/sso/login/", headers=BETA).status_code == 404
    assert client.get("/sso/callback/?code=x&state=y", headers=BETA).status_code == 404
    assert "Sign in with" not in client.get("/admin/login/", headers=BETA).content.decode()
    assert "Sign in with Alpha Login" in client.get("/admin/login/", headers=ALPHA).content.decode()
    platform = client.get("/admin/login/", headers={"host": "localhost"})
    assert platform.status_code == 200 and "Sign in with" not in platform.content.decode()
    assert client.get("/sso/login/", headers={"host": "localhost"}).status_code == 404
