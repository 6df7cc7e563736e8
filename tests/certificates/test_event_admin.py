"""Certificate events in the tenant admin: each with its deliveries, shown and never edited; a tenant
sees its own events only."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateEvent
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.factories import certificate_make

pytestmark = pytest.mark.django_db


def _signed_in(client, tenant):
    host = {"host": tenant["domain"]}
    response = client.post("/admin/login/", {"username": tenant["admin_email"], "password": PASSWORD}, headers=host)
    assert response.status_code == 302
    return host


def test_an_event_shows_with_its_deliveries_and_cannot_be_edited(client, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        certificate_make("seen.alpha.test")
        event = CertificateEvent.objects.get(identifier="seen.alpha.test")
    host = _signed_in(client, TENANT_A)
    listing = client.get("/admin/certificates/certificateevent/", headers=host)
    assert listing.status_code == 200 and "seen.alpha.test" in listing.content.decode()
    page = client.get(f"/admin/certificates/certificateevent/{event.pk}/change/", headers=host)
    assert page.status_code == 200 and "issued" in page.content.decode().lower()
    assert client.post(f"/admin/certificates/certificateevent/{event.pk}/change/", {}, headers=host).status_code == 403
    assert client.get("/admin/certificates/certificateevent/add/", headers=host).status_code == 403
    assert (
        client.post(
            f"/admin/certificates/certificateevent/{event.pk}/delete/", {"post": "yes"}, headers=host
        ).status_code
        == 403
    )
    with tenant_context(tenant_a):
        assert CertificateEvent.objects.filter(pk=event.pk).exists()


def test_another_tenant_does_not_see_the_event(client, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        certificate_make("private.alpha.test")
    host = _signed_in(client, TENANT_B)
    listing = client.get("/admin/certificates/certificateevent/", headers=host)
    assert listing.status_code == 200 and "private.alpha.test" not in listing.content.decode()
