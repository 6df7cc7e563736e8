"""ARI and ACME profiles over the API: a CA account shows what its directory offers and reads it again on
request; a certificate chooses a profile the CA offers (400 naming the offered ones otherwise) and shows
the renewal window its CA suggests. Two tenants: one never reaches the other's accounts."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.ari import cert_id
from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.acme.directory import ca_account_directory_read
from apps.certificates.models import Certificate
from tests.certificates.ari_support import PROFILES, stub_account, stub_certificate, stub_fixture  # noqa: F401
from tests.factories import TEST_ACTOR, accounts


def test_a_ca_account_shows_and_refreshes_what_its_directory_offers(tenant_a, tenant_b, api_client, stub):
    with tenant_context(tenant_a):
        account = stub_account(stub)
    admin, operator = api_client(tenant_a, "admin"), api_client(tenant_a, "operator")
    before = operator.get(f"/api/ca-accounts/{account.pk}").json()
    assert (before["profiles"], before["renewal_info_url"], before["directory_read_at"]) == ({}, "", None)

    assert operator.post(f"/api/ca-accounts/{account.pk}/refresh").status_code == 403
    assert api_client(tenant_b, "admin").post(f"/api/ca-accounts/{account.pk}/refresh").status_code == 404
    refreshed = admin.post(f"/api/ca-accounts/{account.pk}/refresh")
    assert refreshed.status_code == 200, refreshed.content
    body = refreshed.json()
    assert body["profiles"] == PROFILES and body["renewal_info_url"] == stub.renewal_info_url
    assert body["directory_read_at"] is not None

    stub.answers["/dir"] = (503, b"<h1>down</h1>", {})
    down = admin.post(f"/api/ca-accounts/{account.pk}/refresh")
    assert down.status_code == 502 and down.json()["code"] == "ca_unreachable"
    assert "HTTP 503" in down.json()["error"] and "<h1>" not in down.text
    assert operator.get(f"/api/ca-accounts/{account.pk}").json()["profiles"] == PROFILES, "the last reading stays"


def test_the_refresh_obeys_the_egress_rule(tenant_a, api_client, stub, settings):
    with tenant_context(tenant_a):
        account = stub_account(stub)
    settings.CERTMATE_EGRESS_ALLOW = []
    refused = api_client(tenant_a, "admin").post(f"/api/ca-accounts/{account.pk}/refresh")
    assert refused.status_code == 400 and refused.json()["code"] == "egress_refused"
    assert "CERTMATE_EGRESS_ALLOW" in refused.json()["error"]


def test_a_certificate_takes_a_profile_its_ca_offers(tenant_a, api_client, stub):
    with tenant_context(tenant_a):
        ca = ca_account_directory_read(account=stub_account(stub), actor=TEST_ACTOR)
        accounts()
    operator = api_client(tenant_a, "operator")
    body = {"domain": "api.alpha.test", "ca_account": ca.name, "dns_account": "bind", "acme_profile": "tlsclient"}
    refused = operator.post("/api/certificates", body)
    assert refused.status_code == 400 and refused.json()["code"] == "unknown_profile"
    assert "classic, shortlived" in refused.json()["fields"]["acme_profile"][0]
    assert operator.post("/api/certificates", {**body, "acme_profile": "-x"}).status_code == 400
    created = operator.post("/api/certificates", {**body, "acme_profile": "shortlived"})
    assert created.status_code == 202, created.content
    assert operator.get("/api/certificates/api.alpha.test").json()["acme_profile"] == "shortlived"


def test_patch_changes_the_profile_and_the_detail_shows_the_window(tenant_a, api_client, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        now = timezone.now()
        window = (now - timedelta(hours=1), now + timedelta(hours=1))
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = window
        certificates_ari_refresh(now=now)
    operator = api_client(tenant_a, "operator")
    unknown = operator.patch("/api/certificates/www.alpha.test", {"acme_profile": "tlsclient"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_profile"
    changed = operator.patch("/api/certificates/www.alpha.test", {"acme_profile": "classic"})
    assert changed.status_code == 200, changed.content
    detail = changed.json()
    assert detail["acme_profile"] == "classic" and detail["needs_renewal"] is True
    start, end = (moment.isoformat().replace("+00:00", "Z") for moment in window)
    assert (detail["ari_window_start"], detail["ari_window_end"]) == (start, end)
    assert detail["renew_at"] == now.isoformat().replace("+00:00", "Z") and detail["ari_checked_at"]
    with tenant_context(tenant_a):
        assert Certificate.objects.get(pk=certificate.pk).acme_profile == "classic"
