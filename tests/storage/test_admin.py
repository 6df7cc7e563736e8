"""The tenant admin: a storage target is tested before it is used, credentials never shown, and each
version says where it is published and in what state."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.services.users import user_create
from apps.storage.models import Publication, StorageConfig
from apps.storage.services import publication_publish, publication_request, storage_config_active
from certmate.actors import Actor
from certmate.audit.models import AuditEvent
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import issued_version

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def admin_client(client, tenant_a, tmp_path, settings):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def add(client, backend, settings, credentials):
    form = {"backend": backend, "settings": json.dumps(settings), "credentials_json": json.dumps(credentials)}
    return client.post("/admin/storage/storageconfig/add/", form, headers=HOST)


def test_an_unreachable_target_is_refused_on_the_form(admin_client, tenant_a):
    response = add(admin_client, "hashicorp_vault", {"url": "http://127.0.0.1:9", "timeout": 2}, {"token": "hvs.X"})
    page = response.content.decode()
    assert response.status_code == 200 and "connection test failed" in page and "127.0.0.1:9" in page
    assert "hvs.X" not in page
    with tenant_context(tenant_a):
        assert storage_config_active().backend == "local_filesystem"


def test_a_vault_target_becomes_active_and_versions_show_their_state(
    admin_client, tenant_a, bao, django_capture_on_commit_callbacks
):
    response = add(admin_client, "hashicorp_vault", {"url": bao.url}, {"token": bao.root_token})
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(tenant_a):
        config = storage_config_active()
        assert config.backend == "hashicorp_vault" and StorageConfig.objects.count() == 2
        with django_capture_on_commit_callbacks(execute=False):
            version = issued_version("admin.alpha.test")
            publication_publish(publication_id=publication_request(version=version).pk)
    listing = admin_client.get("/admin/storage/storageconfig/", headers=HOST).content.decode()
    change = admin_client.get(f"/admin/storage/storageconfig/{config.pk}/change/", headers=HOST).content.decode()
    assert bao.url in listing
    assert bao.root_token not in listing and bao.root_token not in change
    tested = admin_client.post(
        "/admin/storage/storageconfig/",
        {"action": "test_connection", "_selected_action": [config.pk]},
        headers=HOST,
        follow=True,
    ).content.decode()
    assert "connection works" in tested
    page = admin_client.get(
        f"/admin/certificates/certificate/{version.certificate_id}/change/", headers=HOST
    ).content.decode()
    assert "HashiCorp Vault: published" in page
    publications = admin_client.get("/admin/storage/publication/", headers=HOST).content.decode()
    assert '"field-target nowrap">HashiCorp Vault (active)<' in publications
    assert '"field-state">Published<' in publications


def test_settings_the_backend_does_not_know_are_shown_on_the_form(admin_client, tenant_a):
    response = add(admin_client, "hashicorp_vault", {"colour": "red"}, {})
    page = response.content.decode()
    assert response.status_code == 200 and "no setting" in page and "needs" in page


def test_publications_are_records_nobody_edits(admin_client, tenant_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        publication = publication_request(version=issued_version("record.alpha.test"))
    url = f"/admin/storage/publication/{publication.pk}/change/"
    page = admin_client.get(url, headers=HOST)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(url, {"state": "published", "attempts": "0"}, headers=HOST).status_code == 403
    with tenant_context(tenant_a):
        unchanged = Publication.objects.get(pk=publication.pk)
    assert (unchanged.state, unchanged.updated_at) == (publication.state, publication.updated_at)


def test_a_storage_target_is_not_deleted_by_hand(admin_client, tenant_a):
    with tenant_context(tenant_a):
        active = storage_config_active()
    url = f"/admin/storage/storageconfig/{active.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}, headers=HOST).status_code == 403
    with tenant_context(tenant_a):
        assert storage_config_active() == active


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("operator", False), ("admin", True)])
def test_only_admins_can_test_the_storage_target_from_the_admin(client, tenant_a, role, allowed):
    # Viewers and operators see the storage targets; testing one reaches the tenant's host and writes
    # the outcome (on the target and in the audit log): an admin's change, as through the API.
    email = TENANT_A["admin_email"] if role == "admin" else f"{role}@alpha.test"
    with tenant_context(tenant_a):
        if role != "admin":
            user_create(email=email, password=PASSWORD, role=role, actor=Actor.command())
        config = storage_config_active()
    assert client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=HOST).status_code == 302
    client.post(
        "/admin/storage/storageconfig/",
        {"action": "test_connection", "_selected_action": [config.pk]},
        headers=HOST,
    )
    with tenant_context(tenant_a):
        config.refresh_from_db()
        tested = AuditEvent.objects.filter(action="storage_config.tested", object_id=str(config.pk), actor_name=email)
        assert (config.last_test_at is not None) is allowed
        assert tested.exists() is allowed
