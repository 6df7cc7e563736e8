"""ARI and profiles in the tenant admin: a CA account's page shows what its directory offers and an action
reads it again; a certificate's page takes a profile the CA offers and shows the CA's suggested window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.ari import cert_id
from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.models import CaAccount, Certificate
from certmate.audit.models import AuditEvent
from tests.certificates.ari_support import stub_account, stub_certificate, stub_fixture  # noqa: F401
from tests.certificates.test_admin_complete import HOST, signed_in
from tests.conftest import TENANT_A

CA_LIST = "/admin/certificates/caaccount/"


@pytest.fixture
def admin(client, tenant_a) -> Client:
    return signed_in(client, TENANT_A["admin_email"])


def test_the_action_reads_the_directory_and_the_page_shows_it(admin, tenant_a, stub):
    with tenant_context(tenant_a):
        account = stub_account(stub)
    page = admin.get(f"{CA_LIST}{account.pk}/change/", headers=HOST).content.decode()
    assert "not read yet" in page
    done = admin.post(CA_LIST, {"action": "refresh_directories", "_selected_action": [account.pk]},
                      headers=HOST, follow=True).content.decode()  # fmt: skip
    assert f"CA account {account.name}: offers ARI; profiles: classic, shortlived." in done
    page = admin.get(f"{CA_LIST}{account.pk}/change/", headers=HOST).content.decode()
    assert "shortlived: six days" in page and stub.renewal_info_url in page
    stub.answers["/dir"] = (500, b"<b>broken</b>", {})
    failed = admin.post(CA_LIST, {"action": "refresh_directories", "_selected_action": [account.pk]},
                        headers=HOST, follow=True).content.decode()  # fmt: skip
    assert "ACME endpoint returned HTTP 500" in failed and "<b>broken" not in failed
    with tenant_context(tenant_a):
        assert AuditEvent.objects.get(action="ca_account.directory_read").channel == "admin"
        assert CaAccount.objects.get(pk=account.pk).profiles, "the last reading stays"


def test_a_certificate_takes_an_offered_profile_and_shows_its_window(admin, tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        now = timezone.now()
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (now, now + timedelta(days=1))
        certificates_ari_refresh(now=now)
    url = f"/admin/certificates/certificate/{certificate.pk}/change/"
    form = admin.get(url, headers=HOST).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data |= {"auto_renew": "on", "acme_profile": "tlsclient"}
    data |= {f"{prefix}-{key}": "0" for prefix in ("versions", "jobs") for key in ("TOTAL_FORMS", "INITIAL_FORMS")}
    refused = admin.post(url, data, headers=HOST)
    assert refused.status_code == 200 and "offers no profile" in refused.content.decode()
    assert "Ari window start" in refused.content.decode()
    saved = admin.post(url, {**data, "acme_profile": "shortlived"}, headers=HOST)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    with tenant_context(tenant_a):
        assert Certificate.objects.get(pk=certificate.pk).acme_profile == "shortlived"
