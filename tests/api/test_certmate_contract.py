"""CertMate 2.x's REST contract, row by row of the README's compatibility table: CertMate's requests and
the status codes and keys it answers. The synchronous calls wait for their job; here a stand-in worker
finishes it at the first poll (tests/e2e waits on a real worker)."""

from __future__ import annotations

import time
import types

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.api.unsupported import REASONS
from apps.certificates.models import Certificate, Job
from tests.api.stand_in import StandInWorker
from tests.factories import accounts, certificate_make

RENEWED = {"message", "domain", "renewed", "dns_provider", "duration"}
REISSUED = {"message", "domain", "dns_provider", "ca_provider", "duration"}
ACCEPTED = {"job_id", "status", "operation", "domain", "status_url"}


@pytest.fixture
def stand_in(monkeypatch, settings):
    """A synchronous call waits (as outside a test's transaction) and a stand-in worker finishes the job."""

    def make(*, succeed: bool = True) -> StandInWorker:
        settings.CERTMATE_API_SYNC_WAIT_SECONDS = 30
        worker = StandInWorker(succeed=succeed)
        monkeypatch.setattr(
            "apps.certificates.selectors.time", types.SimpleNamespace(monotonic=time.monotonic, sleep=worker.sleep)
        )
        monkeypatch.setattr("apps.certificates.api.views.waiting.can_wait", lambda: True)
        return worker

    return make


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


@pytest.fixture
def issued(tenant_a):
    """www.alpha.test, issued once (not due for renewal)."""
    with tenant_context(tenant_a):
        accounts()
        return certificate_make("www.alpha.test")


# --- POST /api/certificates/create ---------------------------------------------------------------


def test_create_of_an_issued_certificate_is_409_with_certmates_hint(tenant_a, operator, issued):
    response = operator.post("/api/certificates/create", {"domain": "www.alpha.test"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "exists" and "renew" in body["hint"] and "/reissue" in body["hint"]
    with tenant_context(tenant_a):
        assert Job.objects.filter(certificate=issued).count() == 1  # nothing was ordered


def test_create_takes_certmates_key_shape(tenant_a, operator):
    with tenant_context(tenant_a):
        accounts()
    for body, key_type in (
        ({"key_type": "rsa", "key_size": 4096}, "rsa4096"),
        ({"key_type": "ecdsa", "elliptic_curve": "secp384r1"}, "ec384"),
        ({"key_type": "ecdsa"}, "ec256"),
    ):
        domain = f"{key_type}.alpha.test"
        response = operator.post("/api/certificates/create", {"domain": domain, "async": True, **body}, format="json")
        assert response.status_code == 202 and set(response.json()) >= ACCEPTED
        with tenant_context(tenant_a):
            assert Certificate.objects.get(identifier=domain).key_type == key_type
    bad = operator.post("/api/certificates/create", {"domain": "x.alpha.test", "key_size": 1024}, format="json")
    assert bad.status_code == 400 and "key_size" in bad.json()["fields"]


# --- POST /api/certificates/{domain}/renew -------------------------------------------------------


def test_renew_waits_and_answers_certmates_shape(tenant_a, operator, issued, stand_in):
    worker = stand_in()
    response = operator.post("/api/certificates/www.alpha.test/renew", {"force": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= RENEWED and body["renewed"] is True and body["domain"] == "www.alpha.test"
    assert body["message"] == "Certificate renewed successfully for www.alpha.test"
    assert body["dns_provider"] == "rfc2136" and body["job_id"] == worker.finished[0].pk
    # What a CertMate client does next: download the new certificate.
    with tenant_context(tenant_a):
        current = Certificate.objects.get(pk=issued.pk).current_version
    downloaded = operator.get("/api/certificates/www.alpha.test/download?format=json").json()
    assert current.number == 2 and downloaded["cert_pem"] == current.certificate_pem


def test_renew_not_due_is_200_renewed_false_and_orders_nothing(tenant_a, operator, issued, stand_in):
    worker = stand_in()
    response = operator.post("/api/certificates/www.alpha.test/renew", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= RENEWED and body["renewed"] is False and body["duration"] is None
    assert body["message"] == "Certificate not yet due for renewal: www.alpha.test"
    assert worker.finished == []
    with tenant_context(tenant_a):
        assert Job.objects.filter(certificate=issued).count() == 1


@pytest.mark.parametrize("how", [{"body": {"force": True, "async": True}}, {"query": "?async=true"}])
def test_renew_async_answers_202_with_the_job(tenant_a, operator, issued, stand_in, how):
    worker = stand_in()
    body = how.get("body", {"force": True})
    response = operator.post(f"/api/certificates/www.alpha.test/renew{how.get('query', '')}", body, format="json")
    assert response.status_code == 202 and set(response.json()) >= ACCEPTED
    assert response.json()["operation"] == "renew" and worker.finished == []
    polled = operator.get(response.json()["status_url"])
    assert polled.status_code == 200 and polled.json()["status"] == "queued"


def test_a_renewal_the_ca_refuses_is_422_and_the_old_certificate_stays(tenant_a, operator, issued, stand_in):
    stand_in(succeed=False)
    response = operator.post("/api/certificates/www.alpha.test/renew", {"force": True}, format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "renewal_failed" and "rateLimited" in body["error"] and body["job_id"]
    with tenant_context(tenant_a):
        assert Certificate.objects.get(pk=issued.pk).current_version.number == 1


def test_renew_of_an_unknown_certificate_is_404_and_a_bad_name_400(tenant_a, tenant_b, api_client, operator, issued):
    assert api_client(tenant_b, "admin").post("/api/certificates/www.alpha.test/renew", {}).status_code == 404
    bad = operator.post("/api/certificates/exa_mple..com/renew", {})
    assert bad.status_code == 400 and "domain" in bad.json()["fields"]
    viewer = api_client(tenant_a, "viewer").post("/api/certificates/www.alpha.test/renew", {})
    assert viewer.status_code == 403


# --- POST /api/certificates/{domain}/reissue -----------------------------------------------------


def test_reissue_changes_names_and_orders_again(tenant_a, operator, issued, stand_in):
    stand_in()
    response = operator.post(
        "/api/certificates/www.alpha.test/reissue",
        {"san_domains": ["api.alpha.test"], "key_type": "rsa", "key_size": 3072},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= REISSUED and body["message"] == "Certificate reissued successfully for www.alpha.test"
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(pk=issued.pk)
        assert certificate.san_domains == ["api.alpha.test"] and certificate.key_type == "rsa3072"
        assert certificate.current_version.number == 2


def test_reissue_keeps_what_it_leaves_out_and_async_answers_202(tenant_a, operator, issued):
    with tenant_context(tenant_a):
        Certificate.objects.filter(pk=issued.pk).update(san_domains=["old.alpha.test"])
    response = operator.post("/api/certificates/www.alpha.test/reissue", {"async": True}, format="json")
    assert response.status_code == 202 and set(response.json()) >= ACCEPTED
    with tenant_context(tenant_a):
        assert Certificate.objects.get(pk=issued.pk).san_domains == ["old.alpha.test"]


def test_reissue_refused_by_the_ca_is_422(tenant_a, operator, issued, stand_in):
    stand_in(succeed=False)
    response = operator.post("/api/certificates/www.alpha.test/reissue", {}, format="json")
    assert response.status_code == 422 and response.json()["code"] == "reissue_failed"


@pytest.mark.parametrize(
    "body",
    [{"san_domains": ["not a name"]}, {"san_domains": "x.alpha.test"}, {"key_type": "dsa"}, {"elliptic_curve": "x"}],
)
def test_reissue_bad_input_is_400(tenant_a, operator, issued, body):
    response = operator.post("/api/certificates/www.alpha.test/reissue", body, format="json")
    assert response.status_code == 400, response.content


def test_reissue_is_404_for_another_tenant(tenant_b, api_client, issued):
    response = api_client(tenant_b, "admin").post("/api/certificates/www.alpha.test/reissue", {}, format="json")
    assert response.status_code == 404


# --- CertMate's endpoints certmate does not serve ------------------------------------------------


@pytest.mark.parametrize("route", sorted(REASONS))
def test_what_certmate_does_not_serve_is_501_with_the_reason(tenant_a, api_client, route):
    path = "/" + route.replace("<str:domain>", "www.alpha.test").replace("<str:", "x").replace(">", "")
    for method in ("get", "post"):
        response = getattr(api_client(tenant_a, "viewer"), method)(path, {}, format="json")
        assert response.status_code == 501, (method, path, response.content[:200])
        assert response.json()["code"] == "not_supported" and REASONS[route] in response.json()["error"]


def test_the_schema_does_not_list_them(tenant_a, api_client):
    paths = api_client(tenant_a, "viewer").get("/api/schema/?format=json").json()["paths"]
    assert "/api/cache/stats" not in paths and "/api/certificates/{domain}/reissue" in paths
