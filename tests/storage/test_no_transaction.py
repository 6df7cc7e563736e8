"""No transaction stays open while a tenant's storage target answers: publishing (one certificate at a
time, so an older version never lands over a newer one, without holding a row or a transaction) and
the admin's connection test."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.storage.models import PublicationState
from apps.storage.services import publication_publish, publication_request, storage_config_active, storage_config_set
from certmate.actors import Actor
from tests.conftest import PASSWORD
from tests.factories import issued_version
from tests.transactions import TransactionProbe
from tests.worker import purge_broker

ACTOR = Actor.system("tests")


@pytest.fixture
def stand_in_vault():
    with TransactionProbe(status=503) as probe:
        yield probe
    purge_broker()  # publishes and retries these tests queued must not reach a later worker


def vault_at(url: str) -> dict:
    return {"backend": "hashicorp_vault", "settings": {"url": url, "timeout": 5}, "credentials": {"token": "hvs.t"}}


def test_publishing_holds_no_transaction_while_the_target_answers(fresh_tenant, stand_in_vault):
    with tenant_context(fresh_tenant()):
        storage_config_set(actor=ACTOR, **vault_at(stand_in_vault.url), test=False)
        publication = publication_request(version=issued_version("slow-target.example.com"))
        stand_in_vault.watch()
        publication = publication_publish(publication_id=publication.pk)
        assert publication.state == PublicationState.PENDING and publication.attempts == 1
        assert "retrying in" in publication.last_error
    stand_in_vault.assert_called_with_no_transaction_open()


def test_the_admin_tests_a_target_with_no_transaction_open(fresh_tenant, stand_in_vault):
    tenant = fresh_tenant(admin=True)
    with tenant_context(tenant):
        local = storage_config_active()
    host = {"host": f"{tenant.schema_name}.test"}
    client = Client()
    login = {"username": f"admin@{tenant.schema_name}.test", "password": PASSWORD}
    assert client.post("/admin/login/", login, headers=host).status_code == 302
    target = vault_at(stand_in_vault.url)
    form = {
        "backend": target["backend"],
        "settings": json.dumps(target["settings"]),
        "credentials_json": json.dumps(target["credentials"]),
    }
    stand_in_vault.watch()
    page = client.post(f"/admin/storage/storageconfig/{local.pk}/change/", form, headers=host).content.decode()
    assert "connection test failed" in page
    stand_in_vault.assert_called_with_no_transaction_open()
    with tenant_context(tenant):
        assert storage_config_active() == local


def test_the_api_tests_a_target_with_no_transaction_open(fresh_tenant, stand_in_vault):
    from tests.api.conftest import bearer_client

    tenant = fresh_tenant()
    admin = bearer_client(tenant, "admin")
    stand_in_vault.watch()
    assert admin.put("/api/storage", vault_at(stand_in_vault.url), format="json").status_code == 502
    assert admin.post("/api/storage/test").status_code == 200  # the local target, still active
    stand_in_vault.assert_called_with_no_transaction_open()


def test_a_publish_asked_for_again_while_the_target_answers_is_not_marked_done(
    tenant_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    from apps.storage.services import publication_republish
    from apps.storage.services.publishing import _claim, _record

    settings.CERTMATE_STORAGE_ROOT = tmp_path
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        version = issued_version("asked-again.alpha.test")
        publication = publication_request(version=version)
        publication, claim = _claim(publication.pk, version.certificate_id)  # the target is answering now...
        publication_republish(version=version)  # ...when the version changes (revoked): publish it again
        assert not _record(publication, claim=claim, state=PublicationState.PUBLISHED)
        assert publication.state == PublicationState.PENDING  # the second publish will store what is new
        assert publication_publish(publication_id=publication.pk).state == PublicationState.PUBLISHED
