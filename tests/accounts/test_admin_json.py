"""JSON typed into admin forms is bounded like API bodies: too deep, or not JSON, is a form error
(status 200, nothing saved), never a 500."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import DnsAccount
from apps.storage.models import StorageConfig
from tests.conftest import PASSWORD, TENANT_A

pytestmark = pytest.mark.django_db
HOST = {"host": TENANT_A["domain"]}
DEEP = "[" * 100_000 + "]" * 100_000
TOO_DEEP = "[" * 40 + "]" * 40


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("typed", [DEEP, TOO_DEEP, '{"a": NaN}', "{"])
@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/admin/storage/storageconfig/add/", lambda typed: {"backend": "hashicorp_vault", "settings": typed}),
        (
            "/admin/storage/storageconfig/add/",
            lambda typed: {"backend": "hashicorp_vault", "settings": "{}", "credentials_json": typed},
        ),
        (
            "/admin/certificates/dnsaccount/add/",
            lambda typed: {"name": "x", "provider": "rfc2136", "credentials_json": typed},
        ),
    ],
)
def test_bad_json_in_an_admin_form_is_a_form_error(admin_client, tenant_a, url, form, typed):
    with tenant_context(tenant_a):
        before = (StorageConfig.objects.count(), DnsAccount.objects.count())
    response = admin_client.post(url, form(typed), headers=HOST)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    with tenant_context(tenant_a):
        assert (StorageConfig.objects.count(), DnsAccount.objects.count()) == before


def test_role_groups_are_shown_never_edited_by_hand(admin_client, tenant_a):
    from django.contrib.auth.models import Group

    with tenant_context(tenant_a):
        group = Group.objects.get(name="viewer")
        permissions = set(group.permissions.values_list("pk", flat=True))
    assert admin_client.get(f"/admin/auth/group/{group.pk}/change/", headers=HOST).status_code == 200
    edit = admin_client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "viewer", "permissions": []}, headers=HOST
    )
    assert edit.status_code == 403
    assert admin_client.post("/admin/auth/group/add/", {"name": "mine"}, headers=HOST).status_code == 403
    with tenant_context(tenant_a):
        assert set(Group.objects.get(name="viewer").permissions.values_list("pk", flat=True)) == permissions
        assert not Group.objects.filter(name="mine").exists()
