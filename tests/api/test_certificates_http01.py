"""Choosing HTTP-01 through the API: certmate's challenge and webroot, CertMate's challenge_type; what
cannot work (a wildcard, a webroot outside the platform's roots) is a 400 saying why and what to do."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.models import Certificate
from tests.factories import TEST_ACTOR, accounts, certificate_make


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


def only_a_ca_account(tenant) -> None:
    with tenant_context(tenant):
        ca_account_create(
            actor=TEST_ACTOR, name="le", directory="letsencrypt", email="ops@example.com", is_default=True
        )


def certificate(tenant, identifier: str) -> Certificate:
    with tenant_context(tenant):
        return Certificate.objects.get(identifier=identifier)


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/certificates", "challenge"), ("/api/certificates/create", "challenge"),
     ("/api/certificates/create", "challenge_type")],
)  # fmt: skip
def test_http01_needs_no_dns_account_and_is_kept(tenant_a, operator, path, field):
    only_a_ca_account(tenant_a)
    response = operator.post(path, {"domain": "shop.alpha.test", field: "http-01", "async": True})
    assert response.status_code == 202, response.content
    assert certificate(tenant_a, "shop.alpha.test").challenge == "http-01"
    row = operator.get("/api/certificates/shop.alpha.test").json()
    assert (row["challenge"], row["challenge_type"], row["webroot"], row["dns_account"]) == ("http-01", "http-01", "",
                                                                                            None)  # fmt: skip


@pytest.mark.parametrize("field", ["challenge", "challenge_type"])
def test_a_wildcard_with_http01_is_refused_naming_the_wildcard(tenant_a, operator, field):
    only_a_ca_account(tenant_a)
    body = {"domain": "alpha.test", "san_domains": ["*.alpha.test"], field: "http-01", "async": True}
    response = operator.post("/api/certificates/create", body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == "wildcard_http01" and "challenge" in answer["fields"]
    assert "*.alpha.test" in answer["error"] and "dns-01" in answer["error"]
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()


def test_challenge_and_challenge_type_must_agree(tenant_a, operator):
    only_a_ca_account(tenant_a)
    body = {"domain": "x.alpha.test", "challenge": "http-01", "challenge_type": "dns-01", "async": True}
    response = operator.post("/api/certificates", body)
    assert response.status_code == 400 and response.json()["code"] == "conflict"
    unknown = operator.post("/api/certificates", {"domain": "x.alpha.test", "challenge": "tls-alpn-01"})
    assert unknown.status_code == 400 and "challenge" in unknown.json()["fields"]


def test_a_webroot_is_refused_outside_the_platforms_roots_and_kept_inside(tenant_a, operator, settings, tmp_path):
    only_a_ca_account(tenant_a)
    body = {"domain": "site.alpha.test", "challenge": "http-01", "async": True}
    settings.CERTMATE_WEBROOT_ROOTS = []
    off = operator.post("/api/certificates", {**body, "webroot": "/srv/www"})
    assert off.status_code == 400 and "webroot mode is off" in off.json()["error"]
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    for outside in ("/etc/nginx", f"{tmp_path}/beta/site", f"{tmp_path}/alpha/../beta"):
        refused = operator.post("/api/certificates", {**body, "webroot": outside})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_webroot", outside
        assert f"{tmp_path}/alpha" in refused.json()["error"], "names where a webroot may be"
    dns = operator.post("/api/certificates", {**body, "challenge": "dns-01", "webroot": f"{tmp_path}/alpha/site"})
    assert dns.status_code == 400 and "http-01 only" in dns.json()["error"]
    accepted = operator.post("/api/certificates", {**body, "webroot": f"{tmp_path}/alpha/site/"})
    assert accepted.status_code == 202, accepted.content
    assert certificate(tenant_a, "site.alpha.test").webroot == f"{tmp_path}/alpha/site"


def test_patch_changes_the_challenge_and_refuses_one_a_wildcard_cannot_have(tenant_a, operator, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    with tenant_context(tenant_a):
        accounts()
        certificate_make("www.alpha.test")
        certificate_make("*.wild.alpha.test")
    webroot = f"{tmp_path}/alpha"
    changed = operator.patch("/api/certificates/www.alpha.test", {"challenge": "http-01", "webroot": webroot})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["challenge"], changed.json()["webroot"]) == ("http-01", webroot)
    back = operator.patch("/api/certificates/www.alpha.test", {"challenge": "dns-01"})
    assert (back.json()["challenge"], back.json()["webroot"]) == ("dns-01", ""), "leaving http-01 clears the webroot"
    refused = operator.patch("/api/certificates/*.wild.alpha.test", {"challenge": "http-01"})
    assert refused.status_code == 400 and "*.wild.alpha.test" in refused.json()["error"]
    assert certificate(tenant_a, "*.wild.alpha.test").challenge == "dns-01"


def test_certmates_reissue_takes_challenge_type(tenant_a, operator):
    with tenant_context(tenant_a):
        accounts()
        certificate_make("re.alpha.test")
    response = operator.post("/api/certificates/re.alpha.test/reissue", {"challenge_type": "http-01", "async": True})
    assert response.status_code == 202, response.content
    assert certificate(tenant_a, "re.alpha.test").challenge == "http-01"
