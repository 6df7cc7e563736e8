"""Issuer fallback over the API: a certificate's chain by CA account names (this tenant's only), the
tenant's default chain by the CA accounts' fallback_position, and the CA account that issued each version."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.issued import Issued
from apps.certificates.models import CaAccount, Certificate
from apps.certificates.services.issuance import version_make_current
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR, accounts, certificate_make, material

ZEROSSL = {"directory_url": "zerossl", "email": "a@alpha.test"}


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def ca_accounts(tenant, *names: str) -> None:
    with tenant_context(tenant):
        accounts()  # "le", the default CA account, and the default DNS account
        for name in names:
            ca_account_create(actor=TEST_ACTOR, name=name, directory="zerossl", email="pki@alpha.test")


def test_a_certificate_takes_its_chain_by_names_and_shows_it(tenant_a, admin):
    ca_accounts(tenant_a, "zerossl-a", "google-a")
    body = {"domain": "www.alpha.test", "fallback_ca_accounts": ["google-a", "zerossl-a", "le"]}
    assert admin.post("/api/certificates", body).status_code == 202
    shown = admin.get("/api/certificates/www.alpha.test").json()
    # The certificate's own account (le) is not its own fallback.
    assert (shown["ca_account"], shown["fallback_ca_accounts"]) == ("le", ["google-a", "zerossl-a"])
    listed = admin.get("/api/certificates").json()["certificates"]
    assert listed[0]["fallback_ca_accounts"] == ["google-a", "zerossl-a"]


def test_changing_the_chain_is_recorded_and_an_empty_one_means_the_tenants(tenant_a, admin):
    ca_accounts(tenant_a, "zerossl-a", "google-a")
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test")
    url = "/api/certificates/www.alpha.test"
    changed = admin.patch(url, {"fallback_ca_accounts": ["zerossl-a", "google-a"]}, format="json")
    assert changed.status_code == 200 and changed.json()["fallback_ca_accounts"] == ["zerossl-a", "google-a"]
    assert admin.patch(url, {"auto_renew": False}, format="json").json()["fallback_ca_accounts"] == [
        "zerossl-a", "google-a",
    ]  # fmt: skip
    assert admin.patch(url, {"fallback_ca_accounts": []}, format="json").json()["fallback_ca_accounts"] == []
    with tenant_context(tenant_a):
        changes = [
            event.changes["fallback_ca_accounts"]
            for event in AuditEvent.objects.filter(action="certificate.updated").order_by("id")
            if "fallback_ca_accounts" in event.changes
        ]
    assert changes == [[[], ["zerossl-a", "google-a"]], [["zerossl-a", "google-a"], []]]


def test_an_unknown_name_or_another_tenants_account_is_a_400_on_the_field(tenant_a, tenant_b, api_client):
    ca_accounts(tenant_a, "zerossl-a")
    ca_accounts(tenant_b, "beta-only")
    alpha = api_client(tenant_a, "admin")
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test")
    for body, answer in (
        ({"domain": "new.alpha.test", "fallback_ca_accounts": ["beta-only"]}, alpha.post),
        ({"fallback_ca_accounts": ["zerossl-a", "nope"]}, alpha.patch),
    ):
        url = "/api/certificates" if "domain" in body else "/api/certificates/www.alpha.test"
        response = answer(url, body, format="json")
        assert response.status_code == 400, response.content
        assert "no CA account is named" in response.json()["fields"]["fallback_ca_accounts"][0]
    too_many = alpha.patch(
        "/api/certificates/www.alpha.test", {"fallback_ca_accounts": ["zerossl-a"] * 7}, format="json"
    )
    assert too_many.status_code == 400 and "fallback_ca_accounts" in too_many.json()["fields"]
    assert alpha.post("/api/certificates", {"domain": "x.alpha.test", "fallback_ca_accounts": "le"}).status_code == 400
    with tenant_context(tenant_a):
        assert not Certificate.objects.filter(identifier="new.alpha.test").exists()
        assert not Certificate.objects.get(identifier="www.alpha.test").fallbacks.exists()
    # Beta's own certificate may name it: the name is beta's.
    beta = api_client(tenant_b, "admin")
    assert (
        beta.post("/api/certificates", {"domain": "www.beta.test", "fallback_ca_accounts": ["beta-only"]}).status_code
        == 202
    )


def test_the_tenants_default_chain_is_the_ca_accounts_fallback_position(tenant_a, admin):
    ca_accounts(tenant_a)
    url = "/api/ca-accounts"
    made = admin.post(
        url, {"name": "backup", "directory_url": "zerossl", "email": "a@alpha.test", "fallback_position": 1}
    )
    assert made.status_code == 201 and made.json()["fallback_position"] == 1
    account = f"{url}/{made.json()['id']}"
    assert admin.patch(account, {"fallback_position": 2}).json()["fallback_position"] == 2
    assert admin.patch(account, {"fallback_position": 0}).status_code == 400
    assert admin.patch(account, {"fallback_position": 101}).status_code == 400
    with tenant_context(tenant_a):
        [created] = AuditEvent.objects.filter(action="ca_account.created", object_name="backup")
        [updated] = AuditEvent.objects.filter(action="ca_account.updated", object_name="backup")
    assert created.changes["fallback_position"] == [None, 1] and updated.changes == {"fallback_position": [1, 2]}
    for number in range(4):  # five in the chain at most: each is one more certbot run for a failing order
        assert admin.post(url, {**ZEROSSL, "name": f"ca{number}", "fallback_position": 3}).status_code == 201
    sixth = admin.post(
        url, {"name": "ca9", "directory_url": "zerossl", "email": "a@alpha.test", "fallback_position": 9}
    )
    assert sixth.status_code == 400 and "at most 5 CA accounts" in sixth.json()["fields"]["fallback_position"][0]
    assert admin.patch(account, {"fallback_position": None}).json()["fallback_position"] is None


def test_a_version_shows_the_ca_account_that_issued_it(tenant_a, admin):
    ca_accounts(tenant_a, "zerossl-a")
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test", versions=1)
        made = material(certificate.names)
        fallback = CaAccount.objects.get(name="zerossl-a")
        issued = Issued(made.cert_pem, made.chain_pem, made.fullchain_pem, made.key_pem, output="",
                        ca_account_id=fallback.pk, ca_account_name=fallback.name)  # fmt: skip
        version_make_current(certificate=certificate, issued=issued, actor=Actor.system("worker"))
    rows = admin.get("/api/certificates/www.alpha.test/versions").json()["versions"]
    assert [(row["number"], row["ca_account"], row["ca_account_id"]) for row in rows] == [
        (2, "zerossl-a", fallback.pk),
        (1, None, None),  # issued before: no CA account recorded
    ]
