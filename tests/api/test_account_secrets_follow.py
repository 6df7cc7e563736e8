"""CA and DNS accounts: EAB values only in their format (a line break cannot add certbot options), one
e-mail check for every address a tenant types, and a stored secret never follows a changed
destination (a new ACME directory needs the EAB HMAC key again, a new DNS provider the credentials)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.certificates.acme import runner
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, DnsAccount
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR

HMAC = "c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw"  # base64url of 25 bytes
INJECTED_KID = "kid-1\nno-verify-ssl = true"
HOST = {"host": TENANT_A["domain"]}


@pytest.mark.parametrize(
    ("eab_kid", "eab_hmac_key"),
    [
        (INJECTED_KID, HMAC),
        ("kid-1", HMAC + "\nno-verify-ssl = true"),
        ("kid 1", HMAC),
        ("k" * 257, HMAC),
        ("kid-1", "c2hvcnQ"),  # 5 bytes: too short for an HMAC key
        ("kid-1", "not base64!"),
    ],
)
def test_eab_values_only_in_their_format(tenant_a, api_client, eab_kid, eab_hmac_key):
    given = {"name": "ca", "directory_url": "zerossl", "email": "ops@alpha.test"}
    response = api_client(tenant_a).post(
        "/api/ca-accounts", {**given, "eab_kid": eab_kid, "eab_hmac_key": eab_hmac_key}, format="json"
    )
    assert response.status_code == 400, response.content
    assert HMAC not in response.content.decode()
    with tenant_context(tenant_a):
        assert not CaAccount.objects.exists()


def test_eab_in_its_format_is_taken(tenant_a, api_client):
    given = {"name": "ca", "directory_url": "zerossl", "email": "ops@alpha.test", "eab_kid": "kid_1-A"}
    assert api_client(tenant_a).post("/api/ca-accounts", {**given, "eab_hmac_key": HMAC}).status_code == 201


def test_the_runner_never_writes_an_injected_option_into_certbots_config(tmp_path):
    # Defence in depth: a value stored before the checks existed is refused at write time, before
    # certbot runs (it would otherwise read "no-verify-ssl = true" from its config file).
    account = runner.AcmeAccount(
        directory_url="https://127.0.0.1:9/dir", email="ops@alpha.test", eab_kid=INJECTED_KID, eab_hmac_key=HMAC
    )
    with pytest.raises(runner.CertbotError) as refused:
        runner.register(account, timeout_seconds=20)
    assert "refused before it reaches certbot" in refused.value.reason
    assert refused.value.output == ""


@pytest.mark.parametrize("email", ["-x@example.com", "--help@example.com", ".x@example.com", '"a,b"@example.com'])
def test_the_runner_refuses_an_email_certbot_would_misread(email):
    account = runner.AcmeAccount(directory_url="https://127.0.0.1:9/dir", email=email)
    with pytest.raises(runner.CertbotError) as refused:
        runner.register(account, timeout_seconds=20)
    assert "refused before running it" in refused.value.reason


@pytest.mark.parametrize("email", ["-x@example.com", "--server@example.com", "a..b@example.com", '"a,b"@example.com'])
def test_one_email_check_for_every_address_a_tenant_types(tenant_a, tenant_b, api_client, email):
    client = api_client(tenant_a)
    created = client.post("/api/ca-accounts", {"name": "ca", "directory_url": "zerossl", "email": email})
    assert created.status_code == 400 and "email" in created.json()["fields"]
    settings = client.patch("/api/settings", {"contact_email": email}, format="json")
    assert settings.status_code == 400, settings.content
    with tenant_context(tenant_a), pytest.raises(ValidationError):
        user_create(email=email, password=PASSWORD, role="viewer", actor=Actor.command())
    with tenant_context(tenant_b), pytest.raises(ValidationError):
        ca_account_create(actor=TEST_ACTOR, name="ca", directory="zerossl", email=email)


def test_a_new_directory_needs_the_eab_key_again(tenant_a, tenant_b, api_client):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            ca_account_create(
                actor=TEST_ACTOR,
                name="ca",
                directory="zerossl",
                email="ops@example.com",
                eab_kid="kid",
                eab_hmac_key=HMAC,
            )
    with tenant_context(tenant_a):
        account = CaAccount.objects.get()
    client = api_client(tenant_a)
    url = f"/api/ca-accounts/{account.pk}"
    moved = client.patch(url, {"directory_url": "https://acme.elsewhere.example/directory"}, format="json")
    assert moved.status_code == 400, moved.content
    assert moved.json()["code"] == "credentials_required" and "eab_hmac_key" in moved.json()["fields"]
    with tenant_context(tenant_a):
        assert CaAccount.objects.get().directory_url == account.directory_url
    renamed = client.patch(url, {"name": "renamed", "directory_url": account.directory_url}, format="json")
    assert renamed.status_code == 200
    given = {"directory_url": "https://acme.elsewhere.example/directory", "eab_hmac_key": HMAC + "AA"}
    assert client.patch(url, given, format="json").status_code == 200
    with tenant_context(tenant_b):
        assert CaAccount.objects.get().directory_url == account.directory_url


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def test_admin_form_needs_the_eab_key_again_for_a_new_directory(tenant_a, admin_client):
    with tenant_context(tenant_a):
        account = ca_account_create(
            actor=TEST_ACTOR, name="ca", directory="zerossl", email="ops@alpha.test", eab_kid="kid", eab_hmac_key=HMAC
        )
    form = {
        "name": "ca",
        "directory_url": "https://acme.elsewhere.example/directory",
        "email": "ops@alpha.test",
        "eab_kid": "kid",
        "eab_hmac_key": "",
        "trust_bundle": "",
    }
    response = admin_client.post(f"/admin/certificates/caaccount/{account.pk}/change/", form, headers=HOST)
    page = response.content.decode()
    assert response.status_code == 200 and "needs the EAB HMAC key given again" in page and HMAC not in page
    with tenant_context(tenant_a):
        assert CaAccount.objects.get().directory_url == account.directory_url
    form["eab_kid"] = INJECTED_KID.replace("\n", "\r\n")
    form["eab_hmac_key"] = HMAC
    response = admin_client.post(f"/admin/certificates/caaccount/{account.pk}/change/", form, headers=HOST)
    assert response.status_code == 200 and "EAB key id must be" in response.content.decode()


def test_a_new_dns_provider_needs_the_credentials_again(tenant_a, tenant_b, api_client, admin_client):
    # A Cloudflare token would fit DigitalOcean's form, and be sent to DigitalOcean.
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            dns_account_create(
                actor=TEST_ACTOR, name="dns", provider="cloudflare", credentials={"api_token": "CF-SECRET-TOKEN"}
            )
    with tenant_context(tenant_a):
        account = DnsAccount.objects.get()
    moved = api_client(tenant_a).patch(f"/api/dns-accounts/{account.pk}", {"provider": "digitalocean"}, format="json")
    assert moved.status_code == 400 and moved.json()["code"] == "credentials_required"
    form = {"name": "dns", "provider": "digitalocean", "credentials_json": "", "propagation_seconds": ""}
    response = admin_client.post(f"/admin/certificates/dnsaccount/{account.pk}/change/", form, headers=HOST)
    assert response.status_code == 200 and "needs the credentials given again" in response.content.decode()
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert DnsAccount.objects.get().provider == "cloudflare"
