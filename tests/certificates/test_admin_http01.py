"""The tenant admin's certificate pages offer the challenge and the webroot: asked for through
certificate_request, changed through certificate_update; a refusal is shown at its field."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.models import Certificate
from tests.audit.admin_forms import admin_change
from tests.certificates.test_admin_complete import ADD, HOST, page, signed_in
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR, accounts, certificate_make


@pytest.fixture
def admin(client, tenant_a) -> Client:
    return signed_in(client, TENANT_A["admin_email"])


def test_asking_for_http01_needs_no_dns_account_and_a_wildcard_is_refused_at_the_challenge(admin, tenant_a):
    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt", email="ops@example.com")
    form = {"names": "shop.alpha.test\n*.shop.alpha.test", "ca_account": ca.pk, "challenge": "http-01"}
    refused = admin.post(ADD, form, headers=HOST)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "*.shop.alpha.test" in errors["challenge"][0] and "dns-01" in errors["challenge"][0]
    asked = admin.post(ADD, {**form, "names": "shop.alpha.test"}, headers=HOST)
    assert asked.status_code == 302, asked.content.decode()[:2000]
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get()
    assert (certificate.challenge, certificate.dns_account_id, certificate.webroot) == ("http-01", None, "")


def test_the_change_page_switches_to_a_webroot_and_refuses_one_outside_the_roots(admin, tenant_a, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    with tenant_context(tenant_a):
        accounts()
        certificate = certificate_make("shop.alpha.test")
    outside = admin_change(admin, page(certificate), HOST, challenge="http-01", webroot="/var/www/html")
    assert outside.status_code == 200
    assert f"{tmp_path}/alpha" in outside.context["adminform"].form.errors["webroot"][0]
    inside = f"{tmp_path}/alpha/www"
    saved = admin_change(admin, page(certificate), HOST, challenge="http-01", webroot=inside)
    assert saved.status_code == 302
    certificate.refresh_from_db()
    assert (certificate.challenge, certificate.webroot) == ("http-01", inside)
