"""The tenant's admin for CA accounts, DNS accounts and certificates: secrets go in, never come out."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, Certificate, DnsAccount, Job, TenantSettings
from apps.certificates.services import certificate_request
from apps.certificates.services.settings import tenant_settings_update
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR

HOST = {"host": TENANT_A["domain"]}
HMAC = "eab-hmac-Zx81kq0PzP2nN5tUvW7yQ"
TSIG = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw=="


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def rfc2136(secret=TSIG):
    return {"nameserver": "127.0.0.1", "port": "53", "tsig_key": "k", "tsig_secret": secret}


def test_eab_key_is_write_only(admin_client, tenant_a):
    response = admin_client.post(
        "/admin/certificates/caaccount/add/",
        {"name": "digicert", "directory_url": "https://acme.digicert.com/v2/acme/directory/",
         "email": "pki@alpha.test", "eab_kid": "kid-7", "eab_hmac_key": HMAC, "trust_bundle": ""},
        headers=HOST,
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(tenant_a):
        account = CaAccount.objects.get(name="digicert")
        assert account.eab_hmac_key == HMAC
        with connection.cursor() as cursor:
            cursor.execute("SELECT eab_hmac_key FROM accounts_caaccount WHERE id = %s", [account.pk])
            assert HMAC not in cursor.fetchone()[0]
    page = admin_client.get(f"/admin/certificates/caaccount/{account.pk}/change/", headers=HOST).content.decode()
    assert "kid-7" in page and HMAC not in page
    # Saving without typing the key again keeps it.
    form = {"name": "digicert", "directory_url": account.directory_url, "email": "pki@alpha.test",
            "eab_kid": "kid-7", "eab_hmac_key": "", "trust_bundle": ""}  # fmt: skip
    assert (
        admin_client.post(f"/admin/certificates/caaccount/{account.pk}/change/", form, headers=HOST).status_code == 302
    )
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(pk=account.pk).eab_hmac_key == HMAC


def test_dns_credentials_are_validated_and_never_shown(admin_client, tenant_a):
    import json

    bad = admin_client.post(
        "/admin/certificates/dnsaccount/add/",
        {"name": "bind", "provider": "rfc2136", "credentials_json": json.dumps({"nameserver": "127.0.0.1"})},
        headers=HOST,
    )
    assert bad.status_code == 200
    assert "tsig_key is required" in bad.content.decode()
    ok = admin_client.post(
        "/admin/certificates/dnsaccount/add/",
        {"name": "bind", "provider": "rfc2136", "credentials_json": json.dumps(rfc2136()), "propagation_seconds": "5"},
        headers=HOST,
    )
    assert ok.status_code == 302, ok.content.decode()[:3000]
    with tenant_context(tenant_a):
        account = DnsAccount.objects.get(name="bind")
    listing = admin_client.get("/admin/certificates/dnsaccount/", headers=HOST).content.decode()
    change = admin_client.get(f"/admin/certificates/dnsaccount/{account.pk}/change/", headers=HOST).content.decode()
    assert "tsig_secret" in listing
    assert TSIG not in listing and TSIG not in change


def test_certificate_page_shows_versions_and_jobs_and_renews(admin_client, tenant_a):
    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt_staging", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=rfc2136())
        job = certificate_request(identifier="shop.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        Job.objects.filter(pk=job.pk).update(status="failed", error="DNS problem: NXDOMAIN")
        certificate = Certificate.objects.get(identifier="shop.alpha.test")
    page = admin_client.get(f"/admin/certificates/certificate/{certificate.pk}/change/", headers=HOST)
    assert page.status_code == 200 and "DNS problem: NXDOMAIN" in page.content.decode()
    response = admin_client.post(
        "/admin/certificates/certificate/",
        {"action": "renew_now", "_selected_action": [certificate.pk]},
        headers=HOST,
        follow=True,
    )
    assert "renewal job" in response.content.decode()
    with tenant_context(tenant_a):
        assert certificate.jobs.filter(operation="renew", status="queued").count() == 1


def test_requests_fall_back_to_the_tenants_defaults(tenant_a):
    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=rfc2136())
        tenant_settings_update(
            actor=TEST_ACTOR, default_ca_account=ca, default_dns_account=dns, default_key_type="rsa4096"
        )
        job = certificate_request(identifier="api.alpha.test", actor=TEST_ACTOR)
        certificate = job.certificate
        assert (certificate.ca_account, certificate.dns_account, certificate.key_type) == (ca, dns, "rsa4096")
        assert certificate.ca_account.directory_url == "https://acme-v02.api.letsencrypt.org/directory"
        assert TenantSettings.load().renewal_threshold_days == 30


def test_requests_without_accounts_say_what_to_do(tenant_a):
    from apps.certificates.services import CertificateRequestError

    with tenant_context(tenant_a), pytest.raises(CertificateRequestError, match="create one or name one"):
        certificate_request(identifier="api.alpha.test", actor=TEST_ACTOR)


def test_unknown_ca_preset_and_bad_provider_credentials_are_refused(tenant_a):
    from django.core.exceptions import ValidationError

    with tenant_context(tenant_a):
        with pytest.raises(ValidationError, match="neither a preset"):
            ca_account_create(actor=TEST_ACTOR, name="x", directory="http://insecure.example/dir", email="a@alpha.test")
        with pytest.raises(ValidationError, match="unknown DNS provider 'nope'"):
            dns_account_create(actor=TEST_ACTOR, name="x", provider="nope", credentials={})


def test_one_tenants_accounts_and_certificates_are_not_the_others(client, tenant_a, tenant_b):
    from tests.conftest import TENANT_B

    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=rfc2136())
        certificate = certificate_request(
            identifier="shop.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        ).certificate
    with tenant_context(tenant_b):
        assert not CaAccount.objects.exists() and not DnsAccount.objects.exists()
        assert not Certificate.objects.filter(identifier="shop.alpha.test").exists()
    beta = {"host": TENANT_B["domain"]}
    login = client.post("/admin/login/", {"username": TENANT_B["admin_email"], "password": PASSWORD}, headers=beta)
    assert login.status_code == 302
    for path in (
        f"/admin/certificates/caaccount/{ca.pk}/change/",
        f"/admin/certificates/certificate/{certificate.pk}/change/",
    ):
        response = client.get(path, headers=beta, follow=True)
        assert response.status_code == 200 and "Perhaps it was deleted" in response.content.decode()
        assert "shop.alpha.test" not in response.content.decode() and "pki@alpha.test" not in response.content.decode()


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("operator", True)])
def test_only_operators_and_admins_can_renew_from_the_admin(client, tenant_a, role, allowed):
    from apps.accounts.services.users import user_create

    with tenant_context(tenant_a):
        user_create(email=f"{role}@alpha.test", password=PASSWORD, role=role, actor=Actor.command())
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt", email="pki@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=rfc2136())
        job = certificate_request(identifier="shop.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        Job.objects.filter(pk=job.pk).update(status="failed")
    client.post("/admin/login/", {"username": f"{role}@alpha.test", "password": PASSWORD}, headers=HOST)
    client.post(
        "/admin/certificates/certificate/",
        {"action": "renew_now", "_selected_action": [job.certificate_id]},
        headers=HOST,
    )
    with tenant_context(tenant_a):
        assert Job.objects.filter(certificate_id=job.certificate_id, operation="renew").exists() is allowed


def test_certificate_names_cannot_be_edited_around_validation(admin_client, tenant_a):
    # The add page asks certificate_request (tests/certificates/test_admin_complete.py): no model field of
    # names to set around its checks.
    form = admin_client.get("/admin/certificates/certificate/add/", headers=HOST).context["adminform"].form
    assert "identifier" not in form.fields and "san_domains" not in form.fields
