"""The certificate endpoints as a CertMate client and a certmate user read them: shapes, lists and
paging, filters, asking for, changing, renewing and deleting certificates, jobs, domains in paths."""

from __future__ import annotations

import re
import types
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, Certificate, CertificateVersion, Job, JobStatus, TenantSettings
from certmate.audit.models import AuditEvent
from tests.api.stand_in import StandInWorker
from tests.factories import RFC2136, TEST_ACTOR, accounts, certificate_make, version_add

CERTMATE_FIELDS = {
    "domain", "exists", "expiry_date", "days_left", "days_until_expiry", "needs_renewal", "dns_provider",
    "ca_provider", "auto_renew", "san_domains",
}  # fmt: skip
OWN_FIELDS = {
    "id", "kind", "status", "key_type", "ca_account", "dns_account", "renew_at", "not_before", "not_after", "serial",
    "fingerprint", "last_error", "current_version",
}  # fmt: skip
JOB_FIELDS = {"job_id", "operation", "domain", "status", "error"}


@pytest.fixture
def operator(tenant_a, api_client):
    return api_client(tenant_a, "operator")


@pytest.fixture
def viewer(tenant_a, api_client):
    return api_client(tenant_a, "viewer")


def in_a(tenant_a, make, *args, **kwargs):
    with tenant_context(tenant_a):
        return make(*args, **kwargs)


# --- reading -------------------------------------------------------------------------------------


def test_list_is_an_object_holding_every_certificate_in_certmates_shape(tenant_a, viewer):
    with tenant_context(tenant_a):
        issued = certificate_make("www.alpha.test", san_domains=("alpha.test",))
        certificate_make("pending.alpha.test", versions=0)
    response = viewer.get("/api/certificates")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"certificates", "count"} and body["count"] == 2
    rows = {row["domain"]: row for row in body["certificates"]}
    assert set(rows) == {"www.alpha.test", "pending.alpha.test"}
    row = rows["www.alpha.test"]
    assert set(row) >= CERTMATE_FIELDS | OWN_FIELDS
    version = issued.current_version
    assert row["exists"] is True
    assert row["expiry_date"] == version.not_after.strftime("%Y-%m-%d %H:%M:%S")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["expiry_date"])
    assert row["days_left"] == row["days_until_expiry"] == (version.not_after - timezone.now()).days
    assert row["needs_renewal"] is False
    assert (row["dns_provider"], row["ca_provider"]) == ("rfc2136", "letsencrypt")
    assert (row["ca_account"], row["dns_account"]) == ("le", "bind")
    assert row["auto_renew"] is True and row["san_domains"] == ["alpha.test"]
    assert (row["serial"], row["fingerprint"], row["current_version"]) == (
        version.serial,
        version.fingerprint_sha256,
        1,
    )
    assert (row["status"], row["kind"], row["key_type"], row["last_error"]) == ("active", "server", "ec256", "")
    pending = rows["pending.alpha.test"]
    assert pending["exists"] is False and pending["status"] == "pending"
    assert pending["expiry_date"] is pending["days_left"] is pending["current_version"] is None
    assert pending["needs_renewal"] is False


def test_detail_has_the_list_rows_shape(tenant_a, viewer):
    in_a(tenant_a, certificate_make, "www.alpha.test")
    listed = viewer.get("/api/certificates").json()["certificates"][0]
    detail = viewer.get("/api/certificates/www.alpha.test")
    assert detail.status_code == 200
    assert detail.json() == listed


def test_needs_renewal_follows_the_threshold(tenant_a, viewer):
    with tenant_context(tenant_a):
        certificate = certificate_make("soon.alpha.test", versions=0)
        # 5 days left of 20: within the 30-day threshold and past half its lifetime
        version_add(certificate, days=20, not_before=timezone.now() - timedelta(days=15))
        certificate_make("later.alpha.test")
    rows = {row["domain"]: row for row in viewer.get("/api/certificates").json()["certificates"]}
    assert rows["soon.alpha.test"]["needs_renewal"] is True
    assert rows["later.alpha.test"]["needs_renewal"] is False


def test_paging_with_limit_offset_and_pages_drops_nothing(tenant_a, viewer):
    with tenant_context(tenant_a):
        ca, dns = accounts()
        for number in range(23):
            Certificate.objects.create(identifier=f"h{number:02}.alpha.test", ca_account=ca, dns_account=dns)
    whole = [row["domain"] for row in viewer.get("/api/certificates").json()["certificates"]]
    assert len(whole) == 23 and whole == sorted(whole)

    seen, url = [], "/api/certificates?limit=10&offset=0"
    while url:
        body = viewer.get(url).json()
        assert body["count"] == 23 and len(body["certificates"]) <= 10
        seen += [row["domain"] for row in body["certificates"]]
        url = body["next"]
    assert seen == whole

    first = viewer.get("/api/certificates?page=1&page_size=20").json()
    second = viewer.get("/api/certificates?page=2&page_size=20").json()
    assert first["previous"] is None and second["next"] is None
    assert [row["domain"] for row in first["certificates"] + second["certificates"]] == whole


def test_filters(tenant_a, viewer):
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test", san_domains=("shop.alpha.test",))
        soon = certificate_make("soon.alpha.test", versions=0)
        version_add(soon, days=6)
        certificate_make("pending.alpha.test", versions=0)
        certificate_make("device-7", kind="client", versions=0, with_accounts=False)

    def domains(query):
        response = viewer.get(f"/api/certificates?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["domain"] for row in response.json()["certificates"])

    assert domains("kind=client") == ["device-7"]
    assert domains("status=pending") == ["device-7", "pending.alpha.test"]
    assert domains("expiring_within=10") == ["soon.alpha.test"]
    assert domains("search=SHOP") == ["www.alpha.test"]
    assert domains("search=soon&status=active") == ["soon.alpha.test"]
    bad = viewer.get("/api/certificates?expiring_within=-1")
    assert bad.status_code == 400 and "expiring_within" in bad.json()["fields"]


def test_listing_costs_the_same_queries_for_3_or_30_certificates(tenant_a, viewer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get("/api/certificates").status_code == 200
        # host -> tenant, token, its last use, tenant settings, the certificates (+ django-tenants' SETs)
        return len([query for query in captured if not query["sql"].startswith("SET search_path")])

    with tenant_context(tenant_a):
        for number in range(3):
            certificate_make(f"a{number}.alpha.test")
    few = queries()
    with tenant_context(tenant_a):
        for number in range(27):
            certificate_make(f"b{number}.alpha.test")
    assert queries() == few <= 5
    assert len(viewer.get("/api/certificates").json()["certificates"]) == 30


def test_versions_list_every_issuance_but_never_the_key(tenant_a, viewer):
    in_a(tenant_a, certificate_make, "www.alpha.test", versions=2, rsa=True)
    response = viewer.get("/api/certificates/www.alpha.test/versions")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and [row["number"] for row in body["versions"]] == [2, 1]
    newest = body["versions"][0]
    assert newest["is_current"] is True and body["versions"][1]["is_current"] is False
    with tenant_context(tenant_a):
        version = CertificateVersion.objects.get(certificate__identifier="www.alpha.test", number=2)
    assert newest["serial"] == version.serial and newest["fingerprint"] == version.fingerprint_sha256
    assert (newest["key_algorithm"], newest["key_size"]) == ("RSA", 2048)
    assert newest["san"] == ["www.alpha.test"] and "server_auth" in newest["extended_key_usage"]
    assert newest["revoked_at"] is None and newest["issuer"] == version.issuer
    assert "PRIVATE KEY" not in response.content.decode() and "BEGIN CERTIFICATE" not in response.content.decode()


# --- domains in paths ----------------------------------------------------------------------------


@pytest.mark.parametrize("path_domain", ["*.alpha.test", "%2A.alpha.test", "%2a.ALPHA.test.", "*.Alpha.Test"])
def test_wildcards_in_paths_encoded_or_not(tenant_a, operator, path_domain):
    in_a(tenant_a, certificate_make, "*.alpha.test", san_domains=("alpha.test",))
    detail = operator.get(f"/api/certificates/{path_domain}")
    assert detail.status_code == 200 and detail.json()["domain"] == "*.alpha.test"
    assert operator.get(f"/api/certificates/{path_domain}/versions").json()["count"] == 1
    tls = operator.get(f"/{path_domain}/tls")
    assert tls.status_code == 200 and tls.content.count(b"BEGIN CERTIFICATE") == 2
    zipped = operator.get(f"/api/certificates/{path_domain}/download")
    assert zipped.status_code == 200
    assert 'filename="wildcard.alpha.test_certificates.zip"' in zipped["Content-Disposition"]


@pytest.mark.parametrize("bad", ["not_a_domain", "localhost", "*.*.alpha.test", "a..alpha.test", "x@alpha.test"])
def test_a_name_that_is_not_a_domain_is_a_field_error(tenant_a, viewer, bad):
    for path in (f"/api/certificates/{bad}", f"/api/certificates/{bad}/versions", f"/{bad}/tls"):
        response = viewer.get(path)
        assert response.status_code == 400, (path, response.content)
        body = response.json()
        assert body["code"] == "invalid_domain" and body["fields"]["domain"] and body["error"]


def test_unknown_certificate_and_job_are_404(viewer):
    for path in ("/api/certificates/nothing.alpha.test", "/nothing.alpha.test/tls", "/api/certificates/jobs/999999"):
        response = viewer.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- asking for certificates ---------------------------------------------------------------------


def test_certmate_create_async_answers_202_with_the_job(tenant_a, operator):
    in_a(tenant_a, accounts)
    body = {"domain": "*.Alpha.test", "san_domains": ["alpha.test"], "dns_provider": "rfc2136", "async": True}
    response = operator.post("/api/certificates/create", body)
    assert response.status_code == 202, response.content
    job = response.json()
    assert set(job) >= JOB_FIELDS
    assert (job["status"], job["domain"], job["operation"]) == ("queued", "*.alpha.test", "issue")
    assert job["status_url"] == f"/api/certificates/jobs/{job['job_id']}"
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="*.alpha.test")
        assert certificate.san_domains == ["alpha.test"] and certificate.dns_account.name == "bind"
        assert Job.objects.get(pk=job["job_id"]).requested_by == operator.user
    polled = operator.get(job["status_url"]).json()
    assert {key: polled[key] for key in JOB_FIELDS} == {**{key: job[key] for key in JOB_FIELDS}, "error": ""}


def test_asking_again_keeps_what_the_request_leaves_out(tenant_a, operator):
    with tenant_context(tenant_a):
        accounts()
        other = dns_account_create(actor=TEST_ACTOR, name="other", provider="rfc2136", credentials=RFC2136)
    first = {"domain": "again.alpha.test", "san_domains": ["www.again.alpha.test"], "key_type": "rsa3072"}
    first = operator.post("/api/certificates/create", {**first, "account_id": "other", "async": True})
    # The same script retried while the job is open gets that job back, not a conflict.
    retried = operator.post("/api/certificates/create", {"domain": "again.alpha.test", "async": True})
    assert retried.status_code == 202 and retried.json()["job_id"] == first.json()["job_id"]
    with tenant_context(tenant_a):
        Job.objects.filter(pk=first.json()["job_id"]).update(status=JobStatus.FAILED)
    again = operator.post("/api/certificates/create", {"domain": "again.alpha.test", "async": True})
    assert again.status_code == 202 and again.json()["job_id"] != first.json()["job_id"]
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="again.alpha.test")
        assert certificate.san_domains == ["www.again.alpha.test"] and certificate.key_type == "rsa3072"
        assert certificate.dns_account == other


def test_certmate_create_resolves_accounts_by_certmates_names(tenant_a, operator):
    with tenant_context(tenant_a):
        accounts()
        staging = ca_account_create(
            actor=TEST_ACTOR, name="staging", directory="letsencrypt_staging", email="ops@example.com"
        )
        other = dns_account_create(actor=TEST_ACTOR, name="other", provider="rfc2136", credentials=RFC2136)
    body = {"domain": "a.alpha.test", "ca_provider": "letsencrypt_staging", "account_id": "other", "async": True}
    assert operator.post("/api/certificates/create", body).status_code == 202
    body = {"domain": "b.alpha.test", "ca_provider": "le", "dns_provider": "rfc2136", "async": True}
    assert operator.post("/api/certificates/create", body).status_code == 202
    with tenant_context(tenant_a):
        a = Certificate.objects.get(identifier="a.alpha.test")
        b = Certificate.objects.get(identifier="b.alpha.test")
        assert (a.ca_account, a.dns_account) == (staging, other)
        assert (b.ca_account.name, b.dns_account.name) == ("le", "bind")  # bind: rfc2136's default


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ca_provider": "zerossl"}, "unknown_ca_account"),
        ({"ca_provider": "nope"}, "unknown_ca_account"),
        ({"account_id": "nope"}, "unknown_dns_account"),
        ({"dns_provider": "cloudflare"}, "no_dns"),
        ({"domain": "bad domain"}, "invalid_domain"),
        ({"san_domains": ["ok.alpha.test", "*.*.x"]}, "invalid_domain"),
        ({"key_type": "dsa"}, "invalid_choice"),
        ({"kind": "client"}, "unsupported_kind"),
    ],
)
def test_create_refuses_with_a_code(tenant_a, operator, body, code):
    in_a(tenant_a, accounts)
    response = operator.post("/api/certificates/create", {"domain": "x.alpha.test", "async": True, **body})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code and response.json()["error"]
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()


def test_field_errors_name_the_field(operator):
    response = operator.post("/api/certificates/create", {"san_domains": "x"})
    body = response.json()
    assert response.status_code == 400 and {"domain", "san_domains"} <= set(body["fields"])


@pytest.mark.parametrize("succeed", [True, False])
def test_certmate_create_waits_for_the_job(tenant_a, operator, settings, monkeypatch, succeed):
    import time

    settings.CERTMATE_API_SYNC_WAIT_SECONDS = 30
    worker = StandInWorker(succeed=succeed, error="CA said: rejectedIdentifier")
    monkeypatch.setattr(
        "apps.certificates.selectors.time", types.SimpleNamespace(monotonic=time.monotonic, sleep=worker.sleep)
    )
    # This test's transaction stands in for autocommit (tests/e2e/test_api_e2e.py waits on a real worker).
    monkeypatch.setattr("apps.certificates.api.views.waiting.can_wait", lambda: True)
    in_a(tenant_a, accounts)
    response = operator.post("/api/certificates/create", {"domain": "sync.alpha.test"})
    body = response.json()
    if succeed:
        assert response.status_code == 201, body
        assert set(body) >= CERTMATE_FIELDS and body["exists"] is True and body["domain"] == "sync.alpha.test"
        assert body["message"] == "Certificate created successfully for sync.alpha.test"
    else:
        assert response.status_code == 502
        assert body["code"] == "issuance_failed" and "rejectedIdentifier" in body["error"]
        assert body["job_id"]


def test_certmate_create_answers_202_when_the_job_outlasts_the_wait(tenant_a, operator, settings, monkeypatch):
    settings.CERTMATE_API_SYNC_WAIT_SECONDS = 0
    monkeypatch.setattr("apps.certificates.api.views.waiting.can_wait", lambda: True)
    in_a(tenant_a, accounts)
    response = operator.post("/api/certificates/create", {"domain": "slow.alpha.test"})
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_a_tenant_waits_with_only_its_share_of_web_threads(tenant_a, operator, settings, monkeypatch):
    from django.core.cache import cache

    settings.CERTMATE_API_SYNC_WAITS_PER_TENANT = 1
    monkeypatch.setattr("apps.certificates.api.views.waiting.can_wait", lambda: True)
    waited = []
    monkeypatch.setattr(
        "apps.certificates.api.views.waiting.job_wait",
        lambda *, job_id, timeout_seconds: waited.append(job_id) or Job.objects.get(pk=job_id),
    )
    in_a(tenant_a, accounts)
    cache.clear()
    with tenant_context(tenant_a):
        cache.set("api-sync-waits", 1)  # another request of this tenant is waiting
    busy = operator.post("/api/certificates/create", {"domain": "busy.alpha.test"})
    assert busy.status_code == 202 and waited == []  # answered at once with the job
    with tenant_context(tenant_a):
        cache.decr("api-sync-waits")  # that request finished
    free = operator.post("/api/certificates/create", {"domain": "free.alpha.test"})
    assert free.status_code == 202 and len(waited) == 1  # it waited (the job is still queued here)


def test_native_post_takes_certmates_fields_and_its_own(tenant_a, operator):
    with tenant_context(tenant_a):
        ca, _ = accounts()
    body = {
        "domain": "api.alpha.test",
        "san_domains": ["api2.alpha.test"],
        "key_type": "rsa3072",
        "ca_account": ca.pk,
        "dns_account": "bind",
        "auto_renew": False,
        "renew_before_days": 14,
    }
    response = operator.post("/api/certificates", body)
    assert response.status_code == 202, response.content
    assert response.json()["operation"] == "issue"
    again = operator.post("/api/certificates", body)  # the open job is answered, not a second one
    assert again.status_code == 202 and again.json()["job_id"] == response.json()["job_id"]
    conflicting = operator.post("/api/certificates", {**body, "key_type": "ec384"})
    assert conflicting.status_code == 409 and conflicting.json()["code"] == "job_open"
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="api.alpha.test")
    assert (certificate.key_type, certificate.auto_renew, certificate.renew_before_days) == ("rsa3072", False, 14)


def test_ca_preset_with_several_accounts_needs_a_default_or_a_name(tenant_a, operator):
    with tenant_context(tenant_a):
        accounts("x-")  # not the defaults
        ca_account_create(actor=TEST_ACTOR, name="le-2", directory="letsencrypt", email="ops@example.com")
    body = {"domain": "x.alpha.test", "ca_provider": "letsencrypt", "account_id": "x-bind", "async": True}
    refused = operator.post("/api/certificates/create", body)
    assert refused.status_code == 400 and refused.json()["code"] == "ambiguous_ca"
    with tenant_context(tenant_a):
        CaAccount.objects.filter(name="le-2").update(is_default=True)
    assert operator.post("/api/certificates/create", body).status_code == 202
    with tenant_context(tenant_a):
        assert Certificate.objects.get(identifier="x.alpha.test").ca_account.name == "le-2"


def test_certmate_create_does_not_wait_inside_a_transaction(tenant_a, operator, settings):
    # The job is only sent to a worker when the transaction commits, after the answer.
    settings.CERTMATE_API_SYNC_WAIT_SECONDS = 300
    in_a(tenant_a, accounts)
    response = operator.post("/api/certificates/create", {"domain": "tx.alpha.test"})
    assert response.status_code == 202 and response.json()["status"] == "queued"


# --- changing, renewing, deleting ----------------------------------------------------------------


def test_renew_queues_a_job_and_refuses_what_is_not_due(tenant_a, operator):
    in_a(tenant_a, certificate_make, "www.alpha.test")
    not_due = operator.post("/api/certificates/www.alpha.test/renew", {})
    assert not_due.status_code == 200 and not_due.json()["renewed"] is False  # CertMate's answer: nothing ordered
    forced = operator.post("/api/certificates/www.alpha.test/renew", {"force": True})
    assert forced.status_code == 202
    job = forced.json()
    assert (job["operation"], job["status"], job["forced"]) == ("renew", "queued", True)
    again = operator.post("/api/certificates/www.alpha.test/renew", {"force": True})
    assert again.json()["job_id"] == job["job_id"]


def test_auto_renew_toggles(tenant_a, operator):
    in_a(tenant_a, certificate_make, "www.alpha.test")
    off = operator.put("/api/certificates/www.alpha.test/auto-renew", {"enabled": False})
    assert off.status_code == 200 and off.json()["auto_renew"] is False
    with tenant_context(tenant_a):
        assert Certificate.objects.get(identifier="www.alpha.test").auto_renew is False
    assert operator.put("/api/certificates/www.alpha.test/auto-renew", {"enabled": True}).json()["auto_renew"] is True
    missing = operator.put("/api/certificates/www.alpha.test/auto-renew", {})
    assert missing.status_code == 400 and "enabled" in missing.json()["fields"]


def test_patch_moves_the_renewal_date_and_changes_accounts(tenant_a, operator):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test")
        staging = ca_account_create(
            actor=TEST_ACTOR, name="staging", directory="letsencrypt_staging", email="ops@example.com"
        )
        TenantSettings.objects.update(renewal_threshold_days=30)
    version = certificate.current_version
    response = operator.patch(
        "/api/certificates/www.alpha.test", {"renew_before_days": 10, "ca_account": "staging", "key_type": "ec384"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["ca_account"], body["ca_provider"], body["key_type"]) == ("staging", "letsencrypt_staging", "ec384")
    with tenant_context(tenant_a):
        certificate.refresh_from_db()
    assert certificate.ca_account == staging and certificate.renew_at == version.not_after - timedelta(days=10)
    back = operator.patch("/api/certificates/www.alpha.test", {"renew_before_days": None})
    assert back.json()["renew_before_days"] is None
    with tenant_context(tenant_a):
        certificate.refresh_from_db()
    assert certificate.renew_at == version.not_after - timedelta(days=30)


def test_patch_waits_for_an_open_job_to_change_how_it_is_issued(tenant_a, operator):
    in_a(tenant_a, certificate_make, "www.alpha.test")
    operator.post("/api/certificates/www.alpha.test/renew", {"force": True})
    refused = operator.patch("/api/certificates/www.alpha.test", {"key_type": "rsa2048"})
    assert refused.status_code == 409 and refused.json()["code"] == "job_open"
    allowed = operator.patch("/api/certificates/www.alpha.test", {"auto_renew": False})
    assert allowed.status_code == 200
    unknown = operator.patch("/api/certificates/www.alpha.test", {"dns_account": "nope"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_dns_account"


def test_delete_removes_versions_and_jobs_but_not_key_download_records(tenant_a, operator):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test", versions=2)
    assert operator.get("/api/certificates/www.alpha.test/download?file=privkey.pem").status_code == 200
    operator.post("/api/certificates/www.alpha.test/renew", {"force": True})
    busy = operator.delete("/api/certificates/www.alpha.test")
    assert busy.status_code == 409 and busy.json()["code"] == "job_open"
    with tenant_context(tenant_a):
        Job.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.FAILED)
    response = operator.delete("/api/certificates/www.alpha.test")
    assert response.status_code == 200
    assert response.json() == {"message": "Certificate deleted for www.alpha.test", "domain": "www.alpha.test"}
    with tenant_context(tenant_a):
        assert not Certificate.objects.filter(pk=certificate.pk).exists()
        assert not CertificateVersion.objects.filter(certificate_id=certificate.pk).exists()
        assert not Job.objects.filter(certificate_id=certificate.pk).exists()
        record = AuditEvent.objects.get(action="private_key.downloaded")
        assert (record.object_id, record.object_name, record.changes["version"]) == (
            str(certificate.pk),
            "www.alpha.test",
            2,
        )
    assert operator.get("/api/certificates/www.alpha.test").status_code == 404


# --- jobs ----------------------------------------------------------------------------------------


def test_jobs_list_filters_and_detail_output_for_admins_only(tenant_a, api_client):
    operator, viewer = api_client(tenant_a, "operator"), api_client(tenant_a, "viewer")
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test", versions=2)
        certificate_make("api.alpha.test")
    operator.post("/api/certificates/api.alpha.test/renew", {"force": True})
    body = viewer.get("/api/certificates/jobs").json()
    assert body["count"] == 4 and set(body["jobs"][0]) >= JOB_FIELDS
    assert body["jobs"][0]["status"] == "queued"  # newest first

    def count(query):
        return viewer.get(f"/api/certificates/jobs?{query}").json()["count"]

    assert (count("status=succeeded"), count("status=queued"), count("operation=renew")) == (3, 1, 2)
    assert count("domain=www.alpha.test") == 2 and count("domain=www.alpha.test&operation=issue") == 1
    assert viewer.get("/api/certificates/jobs?status=done").status_code == 400
    assert viewer.get("/api/certificates/jobs?limit=1").json()["next"]

    job_id = body["jobs"][-1]["job_id"]
    assert viewer.get(f"/api/certificates/jobs/{job_id}").json()["output"] is None
    assert operator.get(f"/api/certificates/jobs/{job_id}").json()["output"] is None  # untrusted plugin text
    detail = api_client(tenant_a, "admin").get(f"/api/certificates/jobs/{job_id}").json()
    assert detail["output"] == "certbot: Successfully received certificate." and detail["version"] == 1


# --- the schema ----------------------------------------------------------------------------------


def test_every_certificate_field_and_parameter_is_described(tenant_a, anon_client):
    schema = anon_client(tenant_a).get("/api/schema/", {"format": "json"}).json()
    ours = {path: ops for path, ops in schema["paths"].items() if path.startswith(("/api/certificates", "/{domain}"))}
    assert len(ours) == 19  # revoke, unhold, reissue, deploy and deployment-status included; batch, batches and a batch
    names, todo = set(), set(re.findall(r"#/components/schemas/(\w+)", str(ours))) - {"Error"}
    while todo:  # the components these paths use, and the ones those use
        names.add(name := todo.pop())
        todo |= set(re.findall(r"#/components/schemas/(\w+)", str(schema["components"]["schemas"][name]))) - names
    assert {"Certificate", "Version", "JobDetail", "JobAccepted", "CertificateRequestRequest"} <= names
    for name in names:
        component = schema["components"]["schemas"][name]
        for field, spec in component.get("properties", {}).items():
            if name.startswith("Paginated"):
                continue  # the list wrapper: described by the pagination class
            assert spec.get("description") or "$ref" in spec or "allOf" in spec, f"{name}.{field}"
    for path, operations in ours.items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (method, path, parameter["name"])
    download = ours["/api/certificates/{domain}/download"]["get"]["responses"]["200"]["content"]
    assert set(download) == {
        "application/zip",
        "application/x-pem-file",
        "application/x-pkcs12",
        "application/json",
        "application/pkix-cert",
    }
