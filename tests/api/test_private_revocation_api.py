"""Revocation through the API: the native endpoint answers a private CA's certificate at once (200, the
revoked version; ACME stays a 202 job), holds are lifted at .../unhold, CertMate's client-certificate
revoke answers in CertMate's shape with its free-text reasons, an intermediate is revoked into its root's
CRL, and bulk revocations run as a job to follow. Roles, two tenants, and never a 5xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateAuthority, CertificateVersion
from apps.certificates.pki.bulk_revocation import bulk_revocation_run
from certmate.audit.models import AuditEvent
from tests.api.pki_support import assert_no_private_key, hierarchy_a, hierarchy_b
from tests.api.test_pki_fuzz import HOSTILE, ODD, _sound
from tests.factories import certificate_make
from tests.pki.revocation_support import crl_entries, crl_text, issue

__all__ = ["hierarchy_a", "hierarchy_b"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(tenant_a, hierarchy_a) -> CertificateVersion:
    with tenant_context(tenant_a):
        return issue("alice-laptop", common_name="Alice")


def _revoke(client, name: str, kind: str = "client", **body):
    return client.post(f"/api/certificates/{name}/revoke?kind={kind}", body, format="json")


def test_the_native_endpoint_revokes_a_private_certificate_at_once(tenant_a, tenant_b, api_client, alice, tmp_path):
    operator, viewer, other = api_client(tenant_a, "operator"), api_client(tenant_a, "viewer"), api_client(tenant_b)
    when = (alice.not_before + timedelta(minutes=1)).isoformat()
    assert _revoke(viewer, "alice-laptop", reason="keycompromise").status_code == 403
    # Tenant B has no such certificate (a name that is not a domain is a 400 there, as for any unknown name).
    assert _revoke(other, "alice-laptop", reason="keycompromise").status_code in (400, 404)
    response = _revoke(operator, "alice-laptop", reason="keycompromise", invalidity_date=when)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["number"], body["serial"], body["revocation_reason"]) == (1, alice.serial, "keycompromise")
    assert body["revoked_at"] and body["invalidity_date"].startswith(when[:19]) and body["is_current"] is True
    assert_no_private_key(response)
    again = _revoke(operator, "alice-laptop", reason="keycompromise")
    assert again.status_code == 200 and again.json()["revoked_at"] == body["revoked_at"]
    refused = _revoke(operator, "alice-laptop", reason="superseded")
    assert (refused.status_code, refused.json()["code"]) == (409, "revoked")
    with tenant_context(tenant_a):
        entry = crl_entries(crl_text(alice.authority, tmp_path))[int(alice.serial, 16)]
        assert AuditEvent.objects.filter(action="certificate.revoked").count() == 1
    assert "Key Compromise" in entry and "Invalidity Date" in entry
    versions = operator.get("/api/certificates/alice-laptop/versions?kind=client").json()
    assert versions["versions"][0]["revocation_reason"] == "keycompromise", versions


def test_a_hold_is_lifted_at_unhold(tenant_a, api_client, alice, tmp_path):
    operator = api_client(tenant_a, "operator")
    assert _revoke(operator, "alice-laptop", reason="certificatehold").json()["revocation_reason"] == "certificatehold"
    held = operator.post("/api/certificates/alice-laptop/unhold?kind=client", {}, format="json")
    assert held.status_code == 200, held.content
    assert (held.json()["revoked_at"], held.json()["revocation_reason"]) == (None, "")
    with tenant_context(tenant_a):
        assert int(alice.serial, 16) not in crl_entries(crl_text(alice.authority, tmp_path))
    assert _revoke(operator, "alice-laptop", reason="cessationofoperation").status_code == 200
    final = operator.post("/api/certificates/alice-laptop/unhold?kind=client", {"version": 1}, format="json")
    assert (final.status_code, final.json()["code"]) == (409, "revoked")
    missing = operator.post("/api/certificates/alice-laptop/unhold?kind=client", {"version": 9}, format="json")
    assert missing.status_code == 404
    assert api_client(tenant_a, "viewer").post("/api/certificates/alice-laptop/unhold?kind=client").status_code == 403


def test_acme_certificates_stay_a_job(tenant_a, api_client):
    with tenant_context(tenant_a):
        certificate_make("acme.alpha.test")
    operator = api_client(tenant_a, "operator")
    for body in ({"reason": "certificatehold"}, {"reason": "superseded", "invalidity_date": "2026-01-01T00:00:00Z"}):
        refused = _revoke(operator, "acme.alpha.test", kind="server", **body)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_reason"), refused.content
    queued = _revoke(operator, "acme.alpha.test", kind="server", reason="superseded")
    assert queued.status_code == 202 and queued.json()["operation"] == "revoke"
    refused = operator.post("/api/certificates/acme.alpha.test/unhold", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "not_private")


def test_certmate_revoke_answers_certmates_shape(tenant_a, tenant_b, api_client):
    operator, admin = api_client(tenant_a, "operator"), api_client(tenant_a, "admin")
    created = operator.post("/api/client-certs/create", {"common_name": "Bob"}, format="json").json()
    identifier = created["identifier"]
    url = f"/api/client-certs/{identifier}/revoke"
    assert operator.post(url, {"reason": "User requested"}, format="json").status_code == 403
    assert api_client(tenant_b, "admin").post(url, {"reason": "x"}, format="json").status_code == 404
    response = admin.post(url, {"reason": "User requested"}, format="json")  # what CertMate's own UI sends
    assert (response.status_code, response.json()) == (200, {"message": f"Certificate revoked: {identifier}"})
    metadata = admin.get(f"/api/client-certs/{identifier}").json()
    assert (metadata["revoked"], metadata["reason_revoked"]) == (True, "unspecified") and metadata["revoked_at"]
    assert [row["identifier"] for row in admin.get("/api/client-certs?revoked=true").json()["certificates"]] == [
        identifier
    ]
    assert admin.get("/api/client-certs?revoked=false").json()["total"] == 0
    assert admin.get("/api/client-certs/stats").json()["revoked"] == 1
    # A second revocation answers the same, its reason standing; a compromise learnt later replaces it.
    assert admin.post(url, {"reason": "superseded"}, format="json").status_code == 200
    assert admin.post(url, {"reason": "Key_Compromise"}, format="json").status_code == 200
    assert admin.get(f"/api/client-certs/{identifier}").json()["reason_revoked"] == "keycompromise"
    with tenant_context(tenant_a):
        revoked = AuditEvent.objects.filter(action="certificate.revoked").order_by("pk")
        notes = [event.changes.get("note") for event in revoked]
    assert notes == ["User requested", None]


@pytest.mark.parametrize(
    ("reason", "status", "recorded"),
    [
        ({"reason": "keyCompromise"}, 200, "keycompromise"),
        ({"reason": "certificate hold"}, 200, "certificatehold"),
        ({}, 200, "unspecified"),
        ({"reason": ""}, 200, "unspecified"),
        ({"reason": "removeFromCRL"}, 400, None),
        ({"reason": "cACompromise"}, 400, None),
        ({"reason": ["x"]}, 400, None),
        ({"reason": {"a": 1}}, 400, None),
        ({"reason": "x" * 2000}, 400, None),
    ],
)
def test_certmate_reasons(tenant_a, api_client, reason, status, recorded):
    admin = api_client(tenant_a, "admin")
    identifier = admin.post("/api/client-certs/create", {"common_name": "Eve"}, format="json").json()["identifier"]
    response = admin.post(f"/api/client-certs/{identifier}/revoke", reason, format="json")
    assert response.status_code == status, response.content
    assert admin.get(f"/api/client-certs/{identifier}").json()["reason_revoked"] == recorded


def test_an_admin_revokes_an_intermediate(tenant_a, tenant_b, api_client, hierarchy_a, tmp_path):
    admin = api_client(tenant_a, "admin")
    assert api_client(tenant_a, "operator").post("/api/cas/alpha/revoke", {}, format="json").status_code == 403
    assert api_client(tenant_b, "admin").post("/api/cas/alpha/revoke", {}, format="json").status_code == 404
    refused = admin.post("/api/cas/alpha-root/revoke", {"reason": "superseded"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_revocable")
    response = admin.post("/api/cas/alpha/revoke", {"reason": "keycompromise"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["can_issue"], body["revocation_reason"]) == ("retired", False, "cacompromise")
    assert body["revoked_at"]
    issuing = admin.post("/api/certificates", {"issuer": "alpha", "kind": "client", "name": "late",
                                               "subject": {"common_name": "late"}}, format="json")  # fmt: skip
    assert issuing.status_code in (400, 409) and issuing.json()["code"] == "ca_unavailable", issuing.content
    with tenant_context(tenant_a):
        root = CertificateAuthority.objects.get(name="alpha-root")
        assert "CA Compromise" in crl_entries(crl_text(root, tmp_path))[int(hierarchy_a[1].serial, 16)]


def test_bulk_revocation_through_the_api(tenant_a, tenant_b, api_client, hierarchy_a):
    admin, viewer = api_client(tenant_a, "admin"), api_client(tenant_a, "viewer")
    with tenant_context(tenant_a):
        for name in ("bob-1", "bob-2"):
            issue(name, common_name="Bob")
        issue("carol-1", common_name="Carol")
    url = "/api/cas/alpha/revocations"
    body = {"subject": "bob", "reason": "keycompromise"}
    assert api_client(tenant_a, "operator").post(url, body, format="json").status_code == 403
    assert api_client(tenant_b, "admin").post(url, body, format="json").status_code == 404
    preview = admin.post(url, {**body, "preview": True}, format="json")
    assert preview.json() == {"preview": True, "matching": 2}
    accepted = admin.post(url, body, format="json")
    assert accepted.status_code == 202, accepted.content
    bulk = accepted.json()
    assert (bulk["status"], bulk["total"], bulk["selector"]) == ("queued", 2, {"subject": "bob"})
    assert bulk["status_url"] == f"/api/cas/alpha/revocations/{bulk['id']}"
    with tenant_context(tenant_a):
        bulk_revocation_run(bulk_id=bulk["id"])
    followed = viewer.get(bulk["status_url"]).json()
    assert (followed["status"], followed["revoked"], followed["failed"]) == ("succeeded", 2, 0)
    assert sorted(result["identifier"] for result in followed["results"]) == ["bob-1", "bob-2"]
    assert [row["id"] for row in viewer.get(url).json()] == [bulk["id"]]
    assert api_client(tenant_b, "admin").get(bulk["status_url"]).status_code == 404
    with tenant_context(tenant_a):
        revoked = set(Certificate.objects.filter(current_version__revoked_at__isnull=False).values_list(
            "identifier", flat=True))  # fmt: skip
    assert revoked == {"bob-1", "bob-2"}


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "superseded"},
        {"subject": "", "profile": "", "reason": "superseded"},
        {"subject": "bob", "reason": "cacompromise"},
        {"subject": "bob"},
        {"profile": "nope", "reason": "superseded"},
        {"issued_before": "last tuesday", "reason": "superseded"},
        {"subject": "bob", "reason": "keycompromise", "invalidity_date": "2999-01-01T00:00:00Z"},
        {"subject": "bob\x00", "reason": "superseded"},
    ],
)
def test_bulk_bad_requests_are_400(tenant_a, api_client, hierarchy_a, body):
    response = api_client(tenant_a, "admin").post("/api/cas/alpha/revocations", body, format="json")
    assert response.status_code == 400, response.content


ENDPOINTS = {
    "/api/certificates/alice-laptop/revoke?kind=client": {"reason": "superseded", "version": 1,
                                                          "invalidity_date": "2026-01-01T00:00:00Z"},
    "/api/certificates/alice-laptop/unhold?kind=client": {"version": 1},
    "/api/client-certs/alice-laptop/revoke": {"reason": "superseded"},
    "/api/cas/alpha/revocations": {"subject": "x", "profile": "client", "issued_before": "2026-01-01",
                                   "reason": "superseded", "invalidity_date": None, "preview": True},
    "/api/cas/alpha/revoke": {"reason": "superseded"},
}  # fmt: skip


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_hostile_bodies_are_never_a_server_error(tenant_a, api_client, alice, path):
    admin = api_client(tenant_a, "admin")
    base = ENDPOINTS[path]
    for field in base:
        for value in HOSTILE:
            _sound(admin.post(path, {**base, field: value}, format="json"), f"{path} {field}={value!r:.40}")
    for body in (None, [], "text", 5, [base], {"": ""}):
        _sound(admin.post(path, body, format="json"), f"{path} body {body!r:.40}")


def test_odd_paths_are_never_a_server_error(tenant_a, api_client, alice):
    admin = api_client(tenant_a, "admin")
    for odd in ODD:
        for path in (f"/api/cas/{odd}/revoke", f"/api/cas/{odd}/revocations", f"/api/cas/alpha/revocations/{odd}",
                     f"/api/client-certs/{odd}/revoke", f"/api/certificates/{odd}/unhold"):  # fmt: skip
            _sound(admin.post(path, {"reason": "superseded"}, format="json"), path[:80])
            _sound(admin.get(path), path[:80])
    assert admin.get("/api/cas/alpha/revocations/99999999999999999999").status_code == 404
