"""CA accounts, DNS accounts, DNS providers and settings over the API: services behind thin views,
secrets write-only."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import CA_PRESETS, CaAccount, Certificate, TenantSettings

HMAC = "eab-hmac-secret-Zm9vYmFyYmF6cXV4"
TSIG = "c2VjcmV0LXRzaWcta2V5LW5ldmVyLXNob3du"
CLOUDFLARE = "cf-token-never-shown-0123456789"


def rfc2136(secret: str = TSIG) -> dict[str, str]:
    return {"nameserver": "127.0.0.1", "port": "53", "tsig_key": "k", "tsig_secret": secret}


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def create_ca(client, **extra):
    body = {"name": "digicert", "directory_url": "digicert", "email": "PKI@alpha.test", **extra}
    response = client.post("/api/ca-accounts", body)
    assert response.status_code == 201, response.content
    return response.json()


def create_dns(client, **extra):
    body = {"name": "bind", "provider": "rfc2136", "credentials": rfc2136(), **extra}
    response = client.post("/api/dns-accounts", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_ca_account_create_read_update_delete(admin):
    created = create_ca(admin, eab_kid="kid-7", eab_hmac_key=HMAC)
    assert created["directory_url"] == CA_PRESETS["digicert"][1]
    assert created["email"] == "pki@alpha.test"
    assert (created["has_eab"], created["registered"], created["is_default"]) == (True, False, False)
    assert "eab_hmac_key" not in created

    moved = {"directory_url": "https://ca.example/dir", "eab_hmac_key": HMAC}  # a new directory: the key again
    changed = admin.patch(f"/api/ca-accounts/{created['id']}", moved)
    assert changed.status_code == 200 and changed.json()["directory_url"] == "https://ca.example/dir"
    assert admin.patch(f"/api/ca-accounts/{created['id']}", {"is_default": True}).json()["is_default"] is True
    other = create_ca(admin, name="le", directory_url="letsencrypt", is_default=True)
    assert admin.get(f"/api/ca-accounts/{created['id']}").json()["is_default"] is False
    assert [row["name"] for row in admin.get("/api/ca-accounts").json()] == ["digicert", "le"]

    assert admin.delete(f"/api/ca-accounts/{other['id']}").status_code == 204
    assert admin.get(f"/api/ca-accounts/{other['id']}").status_code == 404


def test_ca_account_refusals(admin):
    create_ca(admin)
    taken = admin.post("/api/ca-accounts", {"name": "digicert", "directory_url": "letsencrypt", "email": "a@b.test"})
    assert taken.status_code == 409
    assert taken.json() == {"error": "a CA account named 'digicert' already exists", "code": "name_taken"}
    insecure = admin.post("/api/ca-accounts", {"name": "x", "directory_url": "http://ca.test/d", "email": "a@b.test"})
    assert insecure.status_code == 400 and insecure.json()["code"] == "invalid_directory"
    half = admin.post(
        "/api/ca-accounts", {"name": "y", "directory_url": "zerossl", "email": "a@b.test", "eab_kid": "k"}
    )
    assert half.status_code == 400 and half.json()["code"] == "eab_incomplete"
    missing = admin.post("/api/ca-accounts", {"name": "z"})
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"directory_url", "email"}


def test_a_registered_ca_account_keeps_its_directory_email_and_eab(tenant_a, admin):
    account = create_ca(admin, eab_kid="kid-7", eab_hmac_key=HMAC)
    with tenant_context(tenant_a):
        CaAccount.objects.filter(pk=account["id"]).update(registered_at=timezone.now())
    url = f"/api/ca-accounts/{account['id']}"
    for change in ({"directory_url": "letsencrypt"}, {"email": "new@alpha.test"}, {"eab_hmac_key": HMAC + "AA"}):
        refused = admin.patch(url, change)
        assert refused.status_code == 400, change
        assert refused.json()["code"] == "account_registered"
        assert f"{next(iter(change))} cannot change" in refused.json()["error"]
    # the same values, and the fields a registration does not depend on, may be given
    same = {**{k: account[k] for k in ("name", "directory_url", "email", "eab_kid")}, "eab_hmac_key": HMAC}
    assert admin.put(url, {**same, "trust_bundle": "", "name": "renamed"}).status_code == 200
    body = admin.get(url).json()
    assert (body["registered"], body["name"], body["directory_url"]) == (True, "renamed", account["directory_url"])


def test_accounts_in_use_cannot_be_deleted(tenant_a, admin):
    ca = create_ca(admin)
    dns = create_dns(admin)
    with tenant_context(tenant_a):
        Certificate.objects.create(identifier="www.alpha.test", ca_account_id=ca["id"], dns_account_id=dns["id"])
    for url in (f"/api/ca-accounts/{ca['id']}", f"/api/dns-accounts/{dns['id']}"):
        response = admin.delete(url)
        assert response.status_code == 409
        assert response.json()["code"] == "in_use"
        assert "used by 1 certificate(s)" in response.json()["error"]
        assert admin.get(url).status_code == 200


def test_dns_account_secrets_are_never_returned(tenant_a, admin, api_client):
    created = create_dns(admin, propagation_seconds=30)
    assert created["credential_fields_set"] == ["nameserver", "port", "tsig_key", "tsig_secret"]
    assert created["is_default"] is True  # a provider's first account
    cloudflare = admin.post(
        "/api/dns-accounts", {"name": "cf", "provider": "cloudflare", "credentials": {"api_token": CLOUDFLARE}}
    )
    viewer = api_client(tenant_a, "viewer")
    responses = [
        cloudflare,
        admin.get("/api/dns-accounts"),
        viewer.get("/api/dns-accounts"),
        viewer.get(f"/api/dns-accounts/{created['id']}"),
        admin.get("/api/dns-accounts?limit=1"),
        admin.patch(f"/api/dns-accounts/{created['id']}", {"name": "bind2"}),
        # an invalid secret is not echoed in the error either
        admin.post("/api/dns-accounts", {"name": "x", "provider": "rfc2136", "credentials": rfc2136(TSIG + "!\n")}),
    ]
    for response in responses:
        assert response.status_code < 500
        for secret in (TSIG, CLOUDFLARE):
            assert secret.encode() not in response.content, response.content
        assert b'credentials":{' not in response.content
    assert responses[-1].status_code == 400
    assert "credentials" in responses[-1].json()["fields"]


def test_dns_account_update_replaces_credentials_and_checks_the_provider(tenant_a, admin):
    dns = create_dns(admin)
    url = f"/api/dns-accounts/{dns['id']}"
    wrong = admin.patch(url, {"credentials": {"tsig_key": "k"}})
    assert wrong.status_code == 400
    assert wrong.json()["fields"]["credentials"] == [
        "rfc2136: nameserver is required",
        "rfc2136: tsig_secret is required",
    ]
    assert admin.patch(url, {"credentials": rfc2136("bmV3LXNlY3JldA==")}).status_code == 200
    moved = admin.patch(url, {"provider": "cloudflare"})  # the stored rfc2136 credentials do not fit
    assert moved.status_code == 400 and "credentials" in moved.json()["fields"]
    moved = admin.patch(url, {"provider": "cloudflare", "credentials": {"api_token": CLOUDFLARE}})
    assert moved.status_code == 200
    assert moved.json()["credential_fields_set"] == ["api_token"] and moved.json()["is_default"] is True
    no_credentials = admin.post("/api/dns-accounts", {"name": "n", "provider": "rfc2136"})
    assert no_credentials.status_code == 400 and "credentials" in no_credentials.json()["fields"]
    unknown = admin.post("/api/dns-accounts", {"name": "n", "provider": "nope", "credentials": {}})
    assert unknown.status_code == 400 and "provider" in unknown.json()["fields"]


def test_dns_providers_describe_their_credentials(tenant_a, api_client):
    providers = {p["name"]: p for p in api_client(tenant_a, "viewer").get("/api/dns-providers").json()}
    rfc = providers["rfc2136"]
    assert rfc["plugin"] == "dns-rfc2136" and rfc["default_propagation_seconds"] == 60
    assert isinstance(rfc["plugin_installed"], bool)
    secret = next(f for f in rfc["credential_fields"] if f["name"] == "tsig_secret")
    assert secret["secret"] is True and secret["required"] is True
    assert providers["cloudflare"]["alternatives"] == [["api_token"], ["email", "api_key"]]


def test_settings_read_and_change(tenant_a, admin):
    ca = create_ca(admin)
    dns = create_dns(admin)
    assert admin.get("/api/settings").json()["default_ca_account"] is None
    changed = admin.patch(
        "/api/settings",
        {"default_ca_account": "digicert", "default_dns_account": "rfc2136:bind", "renewal_threshold_days": 20},
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["default_ca_account"], body["default_dns_account"], body["renewal_threshold_days"]) == (
        ca["id"],
        dns["id"],
        20,
    )
    assert admin.patch("/api/settings", {"default_dns_account": dns["id"], "contact_email": ""}).status_code == 200
    with tenant_context(tenant_a):
        assert TenantSettings.load().default_dns_account_id == dns["id"]
    cleared = admin.patch("/api/settings", {"default_ca_account": None, "default_key_type": "rsa4096"}).json()
    assert (cleared["default_ca_account"], cleared["default_key_type"]) == (None, "rsa4096")
    assert admin.patch("/api/settings", {"default_ca_account": str(ca["id"])}).json()["default_ca_account"] == ca["id"]
    unknown = admin.patch("/api/settings", {"default_ca_account": "nope", "default_key_type": "dsa"})
    assert unknown.status_code == 400
    assert set(unknown.json()["fields"]) == {"default_ca_account", "default_key_type"}
    for bad in ("a\x00b", 2**70, True, [1]):
        response = admin.patch("/api/settings", {"default_dns_account": bad})
        assert response.status_code == 400, bad
        assert list(response.json()["fields"]) == ["default_dns_account"]
