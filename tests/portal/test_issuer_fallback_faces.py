"""Issuer fallback in the portal and the tenant admin: a certificate's chain typed by CA account names
(asked for with the certificate, changed on its page or its admin form, through the services), the
tenant's default chain as the CA accounts' fallback position, and the CA account that issued a version."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.issued import Issued
from apps.certificates.models import CaAccount, Certificate, Job
from apps.certificates.services.acme_options import fallback_names
from apps.certificates.services.issuance import version_make_current
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR, accounts, certificate_make, material

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def chain(tenant_a) -> list[CaAccount]:
    """The tenant's default CA account (le) and two more to fall back to."""
    with tenant_context(tenant_a):
        accounts()
        return [
            ca_account_create(actor=TEST_ACTOR, name=name, directory="zerossl", email="pki@alpha.test")
            for name in ("backup-1", "backup-2")
        ]


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def test_the_portal_asks_with_a_chain_shows_it_and_changes_it(tenant_a, signed_in, chain):
    client = signed_in(tenant_a, "operator")
    asked = client.post(
        "/certificates/request/",
        {"engine": "acme", "acme-names": "www.alpha.test", "acme-fallback_ca_accounts": "backup-2\nbackup-1"},
    )
    assert asked.status_code == 302, asked.content.decode()[:2000]
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="www.alpha.test")
        assert fallback_names(certificate) == ["backup-2", "backup-1"]
    page = client.get(f"/certificates/{certificate.pk}/").content.decode()
    assert "Issuer fallback" in page and "backup-2, backup-1" in page
    with tenant_context(tenant_a):  # the chain changes how it is ordered: not while its first job is open
        Job.objects.filter(certificate=certificate).update(status="failed")
    saved = client.post(
        f"/certificates/{certificate.pk}/settings/", {"auto_renew": "on", "fallback_ca_accounts": "backup-1"}
    )
    assert saved.status_code == 302
    refused = client.post(
        f"/certificates/{certificate.pk}/settings/",
        {"auto_renew": "on", "fallback_ca_accounts": "nowhere"},
        follow=True,
    )
    assert "no CA account is named &#x27;nowhere&#x27;" in refused.content.decode()
    with tenant_context(tenant_a):
        assert fallback_names(certificate) == ["backup-1"]
        [updated] = AuditEvent.objects.filter(action="certificate.updated", object_name="www.alpha.test")
        assert updated.channel == "portal" and updated.changes["fallback_ca_accounts"] == [
            ["backup-2", "backup-1"], ["backup-1"],
        ]  # fmt: skip


def test_a_version_shows_the_ca_account_that_issued_it(tenant_a, signed_in, admin_client, chain):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test")
        made = material(certificate.names)
        issued = Issued(made.cert_pem, made.chain_pem, made.fullchain_pem, made.key_pem, output="",
                        ca_account_id=chain[0].pk, ca_account_name="backup-1")  # fmt: skip
        version_make_current(certificate=certificate, issued=issued, actor=Actor.system("worker"))
    page = signed_in(tenant_a, "viewer").get(f"/certificates/{certificate.pk}/").content.decode()
    assert "Issued by" in page and "CA account backup-1" in page and "fallback</span>" in page
    assert "the tenant's default chain" in page
    change = admin_client.get(f"/admin/certificates/certificate/{certificate.pk}/change/", headers=HOST)
    assert "backup-1" in change.content.decode()  # the versions inline's "CA account"
    listing = admin_client.get("/admin/certificates/certificateversion/", headers=HOST).content.decode()
    assert "backup-1" in listing


def test_the_admin_certificate_form_edits_the_chain_by_names(tenant_a, admin_client, chain):
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test")
    url = f"/admin/certificates/certificate/{certificate.pk}/change/"
    assert 'name="fallback_ca_accounts"' in admin_client.get(url, headers=HOST).content.decode()
    form = {"key_type": "ec256", "ca_account": certificate.ca_account_id, "dns_account": certificate.dns_account_id,
            "auto_renew": "on", "renew_before_days": "", "fallback_ca_accounts": "backup-2\nbackup-1"}  # fmt: skip
    for inline in ("versions", "jobs"):
        form.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    saved = admin_client.post(url, form, headers=HOST)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    with tenant_context(tenant_a):
        assert fallback_names(certificate) == ["backup-2", "backup-1"]
    shown = admin_client.get(url, headers=HOST).content.decode()
    assert "backup-2\nbackup-1</textarea>" in shown
    refused = admin_client.post(url, {**form, "fallback_ca_accounts": "elsewhere"}, headers=HOST)
    assert refused.status_code == 200 and "no CA account is named &#x27;elsewhere&#x27;" in refused.content.decode()


def test_the_default_chain_is_set_on_the_ca_account_in_the_admin_and_the_portal(
    tenant_a, signed_in, admin_client, chain
):
    backup = chain[0]
    form = {"name": backup.name, "preset": "zerossl", "directory_url": "", "email": "pki@alpha.test",
            "eab_kid": "", "eab_hmac_key": "", "trust_bundle": "", "fallback_position": "1"}  # fmt: skip
    url = f"/admin/certificates/caaccount/{backup.pk}/change/"
    assert admin_client.post(url, form, headers=HOST).status_code == 302
    out_of_range = admin_client.post(url, {**form, "fallback_position": "0"}, headers=HOST)
    assert out_of_range.status_code == 200
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(pk=backup.pk).fallback_position == 1
        [audit] = AuditEvent.objects.filter(action="ca_account.updated", object_name=backup.name)
        assert (audit.channel, audit.changes) == ("admin", {"fallback_position": [None, 1]})
    portal = signed_in(tenant_a, "admin")
    assert portal.post(f"/accounts/ca/{backup.pk}/", {**form, "fallback_position": "2"}).status_code == 302
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(pk=backup.pk).fallback_position == 2
    listing = portal.get("/accounts/").content.decode()
    assert "the tenant's default issuer fallback chain" in listing
