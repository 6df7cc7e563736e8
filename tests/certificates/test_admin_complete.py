"""The tenant admin does what a user needs without the API: ask for a certificate, renew, revoke with a
reason, download (the key's downloads recorded), see what expires soon; each through its service, with
the audit channel "admin"; viewers read only; another tenant's session gets nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateVersion, Job
from certmate.audit.models import AuditEvent
from tests.api.conftest import api_user  # noqa: F401 - fixture
from tests.audit.admin_forms import admin_change
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.factories import accounts, certificate_make, version_add
from tests.pki.conftest import openssl

HOST = {"host": TENANT_A["domain"]}
ADD = "/admin/certificates/certificate/add/"
LIST = "/admin/certificates/certificate/"


def signed_in(client: Client, email: str, host: dict = HOST) -> Client:
    response = client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def admin(client, tenant_a) -> Client:
    return signed_in(client, TENANT_A["admin_email"])


@pytest.fixture
def as_role(tenant_a, api_user):  # noqa: F811 - the fixture imported above
    def make(role: str) -> Client:
        return signed_in(Client(), api_user(tenant_a, role).email)

    return make


@pytest.fixture
def issued(tenant_a) -> Certificate:
    with tenant_context(tenant_a):
        return certificate_make("shop.alpha.test", san_domains=("www.shop.alpha.test",))


def page(certificate: Certificate, action: str = "change") -> str:
    return f"{LIST}{certificate.pk}/{action}/"


def events(tenant, action: str) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def jobs(tenant, **filters) -> list[Job]:
    with tenant_context(tenant):
        return list(Job.objects.filter(**filters).order_by("id"))


# --- asking for a certificate ------------------------------------------------------------------------


def test_the_add_page_asks_the_acme_ca_and_queues_exactly_one_job(admin, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        ca, dns = accounts()
    assert admin.get(ADD, headers=HOST).status_code == 200
    form = {"names": "shop.alpha.test\n*.shop.alpha.test\n", "ca_account": ca.pk, "dns_account": dns.pk,
            "key_type": "ec384", "auto_renew": "false"}  # fmt: skip
    with django_capture_on_commit_callbacks() as sent:
        response = admin.post(ADD, form, headers=HOST)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert len(sent) == 1  # the job's task, sent once the admin's transaction commits
    [job] = jobs(tenant_a)
    assert (job.operation, job.status) == ("issue", "queued")
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get()
    assert response["Location"] == page(certificate)
    assert (certificate.identifier, certificate.san_domains) == ("shop.alpha.test", ["*.shop.alpha.test"])
    assert (certificate.key_type, certificate.auto_renew, certificate.dns_account_id) == ("ec384", False, dns.pk)
    [event] = events(tenant_a, "certificate.requested")
    assert (event.channel, event.actor_name, event.changes["job"]) == ("admin", TENANT_A["admin_email"], job.pk)
    shown = admin.get(response["Location"], headers=HOST).content.decode()
    assert f"job {job.pk} queued" in shown
    # Asked again while the job is open: the same job, none added.
    assert admin.post(ADD, form, headers=HOST).status_code == 302
    assert len(jobs(tenant_a)) == 1


def test_a_refused_request_is_shown_at_its_field_and_queues_nothing(admin, tenant_a):
    response = admin.post(ADD, {"names": "shop.alpha.test", "key_type": "", "auto_renew": ""}, headers=HOST)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "create one or name one" in errors["ca_account"][0]
    with tenant_context(tenant_a):
        accounts()
    response = admin.post(ADD, {"names": "shop alpha", "key_type": "", "auto_renew": ""}, headers=HOST)
    assert "is not a domain name" in response.context["adminform"].form.errors["names"][0]
    assert jobs(tenant_a) == [] and events(tenant_a, "certificate.requested") == []


# --- renew, revoke -----------------------------------------------------------------------------------


def test_renew_from_the_certificates_page(admin, tenant_a, issued):
    change = admin.get(page(issued), headers=HOST).content.decode()
    assert f'href="{page(issued, "renew")}"' in change and f'href="{page(issued, "revoke")}"' in change
    assert admin.get(page(issued, "renew"), headers=HOST).status_code == 200  # asks first
    assert jobs(tenant_a, operation="renew") == []
    response = admin.post(page(issued, "renew"), headers=HOST, follow=True)
    [job] = jobs(tenant_a, operation="renew")
    assert job.forced and job.status == "queued"
    assert f"renewal job {job.pk} queued" in response.content.decode()
    [event] = events(tenant_a, "certificate.renewal_requested")
    assert event.channel == "admin" and event.changes == {"forced": True, "job": job.pk}


def test_revoke_with_a_reason_from_the_certificates_page(admin, tenant_a, issued):
    form = admin.get(page(issued, "revoke"), headers=HOST).content.decode()
    assert 'value="keycompromise"' in form and 'value="superseded"' in form
    refused = admin.post(page(issued, "revoke"), {"reason": "because"}, headers=HOST)
    assert refused.status_code == 200 and jobs(tenant_a, operation="revoke") == []
    response = admin.post(page(issued, "revoke"), {"reason": "keycompromise"}, headers=HOST, follow=True)
    [job] = jobs(tenant_a, operation="revoke")
    assert (job.revocation_reason, job.status, job.version_id) == ("keycompromise", "queued", issued.current_version_id)
    assert f"revocation (keycompromise) job {job.pk} queued" in response.content.decode()
    [event] = events(tenant_a, "certificate.revocation_requested")
    assert event.channel == "admin" and event.changes["reason"] == "keycompromise"


def test_revoke_the_selected_certificates_asks_the_reason_first(admin, tenant_a, issued):
    with tenant_context(tenant_a):
        other = certificate_make("api.alpha.test")
    chosen = {"action": "revoke_selected", "_selected_action": [issued.pk, other.pk]}
    asked = admin.post(LIST, chosen, headers=HOST)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert jobs(tenant_a, operation="revoke") == []
    admin.post(LIST, {**chosen, "reason": "superseded"}, headers=HOST)
    revoked = jobs(tenant_a, operation="revoke")
    assert sorted(j.certificate_id for j in revoked) == sorted([issued.pk, other.pk])
    assert {j.revocation_reason for j in revoked} == {"superseded"}
    assert {e.channel for e in events(tenant_a, "certificate.revocation_requested")} == {"admin"}


def test_a_private_cas_certificate_is_revoked_at_once(admin, tenant_a):
    pytest.importorskip("apps.certificates.pki.revoking", reason="private revocation is wired on main (rev-services)")
    from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
    from apps.certificates.pki.services import ca_hierarchy_create
    from tests.factories import TEST_ACTOR

    with tenant_context(tenant_a):
        _, ca = ca_hierarchy_create(name="alpha", common_name="Alpha CA", key_type="ec256", actor=TEST_ACTOR)
        profile = ca.profiles.get(name="client")
        certificate = private_certificate_issue(
            PrivateRequest(profile=profile, subject={"common_name": "laptop"}, name="laptop"), actor=TEST_ACTOR
        )
    admin.post(page(certificate, "revoke"), {"reason": "keycompromise"}, headers=HOST)
    with tenant_context(tenant_a):
        version = CertificateVersion.objects.get(pk=certificate.current_version_id)
    assert version.revoked_at is not None and version.revocation_reason == "keycompromise"


# --- downloads ---------------------------------------------------------------------------------------


def test_public_files_download_unrecorded_and_the_key_only_through_its_recorded_page(admin, tenant_a, issued, tmp_path):
    with tenant_context(tenant_a):
        version = CertificateVersion.objects.get(pk=issued.current_version_id)
    change = admin.get(page(issued), headers=HOST).content.decode()
    for file in ("cert.pem", "chain.pem", "fullchain.pem", "cert.der", "ca.pem"):
        assert f'href="{page(issued, "download")}{file}/"' in change
    cert = admin.get(f"{page(issued, 'download')}cert.pem/", headers=HOST)
    assert cert.status_code == 200 and cert.content.decode() == version.certificate_pem
    der = admin.get(f"{page(issued, 'download')}cert.der/", headers=HOST)
    (tmp_path / "cert.der").write_bytes(der.content)
    as_pem = openssl("x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-outform", "PEM").stdout
    assert as_pem == version.certificate_pem
    assert events(tenant_a, "private_key.downloaded") == []
    # The key is never a plain link.
    assert admin.get(f"{page(issued, 'download')}privkey.pem/", headers=HOST).status_code == 403
    key = admin.post(page(issued, "download"), {"file": "privkey.pem"}, headers=HOST)
    assert key.status_code == 200 and key.content.decode() == version.private_key
    [event] = events(tenant_a, "private_key.downloaded")
    assert (event.channel, event.changes["format"]) == ("admin", "privkey.pem")


def test_pkcs12_asks_for_a_password_and_opens_with_it(admin, tenant_a, issued, tmp_path):
    refused = admin.post(page(issued, "download"), {"file": "cert.pfx", "password": ""}, headers=HOST)
    assert refused.status_code == 200 and refused.context["form"].errors["password"]
    assert events(tenant_a, "private_key.downloaded") == []
    bundle = admin.post(page(issued, "download"), {"file": "cert.pfx", "password": "pass-Word-9"}, headers=HOST)
    assert bundle.status_code == 200 and bundle["Content-Type"] == "application/x-pkcs12"
    (tmp_path / "cert.pfx").write_bytes(bundle.content)
    opened = openssl("pkcs12", "-in", str(tmp_path / "cert.pfx"), "-passin", "pass:pass-Word-9", "-nokeys")
    assert "shop.alpha.test" in opened.stdout
    assert "pass-Word-9" not in bundle.content.decode("latin-1")
    assert [e.changes["format"] for e in events(tenant_a, "private_key.downloaded")] == ["cert.pfx"]


# --- roles and tenants -------------------------------------------------------------------------------


def test_a_viewer_reads_and_downloads_the_public_files_only(as_role, tenant_a, issued):
    viewer = as_role("viewer")
    change = viewer.get(page(issued), headers=HOST)
    assert change.status_code == 200
    shown = change.content.decode()
    assert page(issued, "renew") not in shown and page(issued, "revoke") not in shown
    assert f'href="{page(issued, "download")}"' not in shown  # no link to the key's page
    assert viewer.get(f"{page(issued, 'download')}cert.pem/", headers=HOST).status_code == 200
    assert viewer.get(ADD, headers=HOST).status_code == 403
    for action in ("renew", "revoke", "download"):
        assert viewer.post(page(issued, action), {"reason": "unspecified", "file": "privkey.pem"},
                           headers=HOST).status_code == 403  # fmt: skip
    viewer.post(LIST, {"action": "renew_now", "_selected_action": [issued.pk]}, headers=HOST)
    assert jobs(tenant_a, operation__in=["renew", "revoke"]) == []
    assert events(tenant_a, "private_key.downloaded") == []


def test_an_operator_renews_but_manages_no_accounts_or_tokens(as_role, tenant_a, issued):
    operator = as_role("operator")
    assert operator.get(ADD, headers=HOST).status_code == 200
    operator.post(page(issued, "renew"), headers=HOST)
    assert len(jobs(tenant_a, operation="renew")) == 1
    for path in ("/admin/certificates/dnsaccount/add/", "/admin/certificates/caaccount/add/",
                 "/admin/accounts/apitoken/add/"):  # fmt: skip
        assert operator.get(path, headers=HOST).status_code == 403


def test_another_tenants_session_does_nothing_there(admin, tenant_a, tenant_b, issued):
    with tenant_context(tenant_b):
        theirs = certificate_make("shop.beta.test")
    beta = {"host": TENANT_B["domain"]}
    for action in ("renew", "revoke", "download"):
        response = admin.post(page(theirs, action), {"reason": "unspecified", "file": "privkey.pem"}, headers=beta)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert jobs(tenant_b, operation__in=["renew", "revoke"]) == []
    assert events(tenant_b, "private_key.downloaded") == []


# --- the list and the certificate's page -------------------------------------------------------------


def test_days_left_are_colour_coded_with_the_number_as_text(admin, tenant_a):
    with tenant_context(tenant_a):
        for name, days in (("later.alpha.test", 80), ("soon.alpha.test", 20), ("now.alpha.test", 3)):
            version_add(certificate_make(name, versions=0), days=days)
    listing = admin.get(LIST, headers=HOST).content.decode()
    shown = dict(re.findall(r'<span class="days-left band-(\w+)">(\d+) days?</span>', listing))
    assert {band: int(days) // 10 for band, days in shown.items()} == {"ok": 7, "soon": 1, "urgent": 0}
    assert "certificates/admin.css" in listing


def test_versions_and_jobs_are_read_only_and_a_version_is_never_deleted_from_the_page(admin, tenant_a, issued):
    change = admin.get(page(issued), headers=HOST)
    formsets = {inline.formset.prefix: inline.formset for inline in change.context["inline_admin_formsets"]}
    assert formsets and all(not formset.can_delete for formset in formsets.values())
    assert "DELETE" not in change.content.decode()
    forged = {f"{prefix}-0-DELETE": "on" for prefix in formsets}
    admin_change(admin, page(issued), HOST, **forged)
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.filter(certificate=issued).count() == 1
        assert Job.objects.filter(certificate=issued).count() == 1


def test_view_site_is_the_tenants_portal(admin):
    index = admin.get("/admin/", headers=HOST).content.decode()
    assert re.search(r'<a href="/">View site</a>', index)


def test_a_signed_in_tenant_admin_sees_upcoming_expiry_even_without_a_version(admin, tenant_a):
    with tenant_context(tenant_a):
        certificate_make("pending.alpha.test", versions=0)
    listing = admin.get(LIST, headers=HOST)
    assert listing.status_code == 200 and "pending.alpha.test" in listing.content.decode()


def test_expired_certificates_say_expired(admin, tenant_a, issued):
    with tenant_context(tenant_a):
        CertificateVersion.objects.filter(pk=issued.current_version_id).update(
            not_after=timezone.now() - timedelta(days=1)
        )
    assert '<span class="days-left band-urgent">expired</span>' in admin.get(LIST, headers=HOST).content.decode()
