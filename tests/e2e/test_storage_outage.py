"""Vault down during a renewal, through a real worker, real certbot, Pebble, BIND9 and OpenBao: the
certificate is renewed and current in the database, its publish waits; once Vault is back a retry
publishes it, and nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, JobStatus
from apps.certificates.services.requests import certificate_renew
from apps.storage.backends.vault import VaultBackend
from apps.storage.bundles import version_bundle
from apps.storage.models import Publication, PublicationState
from apps.storage.services import storage_config_set
from certmate.actors import Actor
from tests.e2e.issuance import wait_for_job
from tests.e2e.renewals import issue
from tests.factories import TEST_ACTOR
from tests.storage.servers import Bao
from tests.tools import missing_tool
from tests.worker import Worker, purge_broker

ACTOR = Actor.system("tests")

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def vault() -> Iterator[Bao]:
    """A Vault of this module's own: the test stops and restarts it."""
    reason = Bao.missing_reason()
    if reason:
        missing_tool(reason)
    with Bao() as server:
        yield server


@pytest.fixture(scope="module")
def quick_retry_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real worker whose publish retries come within seconds instead of minutes."""
    env = {"CERTMATE_PUBLISH_RETRY_BASE_SECONDS": "1", "CERTMATE_PUBLISH_RETRY_MAX_SECONDS": "3"}
    with django_db_blocker.unblock():
        purge_broker()
        process = Worker(tmp_path_factory.mktemp("worker") / "worker.log", extra_env=env).start()
    yield process
    process.stop()


def wait_for_publication(tenant, version_id, predicate, *, timeout=60) -> Publication:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            publication = Publication.objects.filter(version_id=version_id).first()
        if (publication and predicate(publication)) or time.monotonic() > deadline:
            assert publication is not None, "no publication was recorded"
            return publication
        time.sleep(0.2)


def test_vault_down_during_a_renewal_loses_nothing(fresh_tenant, quick_retry_worker, pebble, bind9, vault):
    tenant = fresh_tenant()
    settings = {"url": vault.url, "mount": "secret", "kv_version": 2, "timeout": 3}
    with tenant_context(tenant):
        storage_config_set(
            actor=ACTOR, backend="hashicorp_vault", settings=settings, credentials={"token": vault.root_token}
        )
    reader = VaultBackend(tenant=tenant.schema_name, settings=settings, credentials={"token": vault.root_token})

    first = wait_for_job(tenant, issue(tenant, pebble, bind9).pk)
    assert first.status == JobStatus.SUCCEEDED, first.error
    published = wait_for_publication(tenant, first.version_id, lambda p: p.state == PublicationState.PUBLISHED)
    assert published.state == PublicationState.PUBLISHED, published.last_error
    with tenant_context(tenant):
        certificate = Certificate.objects.get(pk=first.certificate_id)
        v1 = version_bundle(certificate.current_version)
    assert reader.read("server", certificate.identifier) == v1

    vault.stop()
    with tenant_context(tenant):
        renewal, _ = certificate_renew(certificate=certificate, force=True, actor=TEST_ACTOR)
    renewed = wait_for_job(tenant, renewal.pk)
    assert renewed.status == JobStatus.SUCCEEDED, renewed.error
    with tenant_context(tenant):
        certificate.refresh_from_db()
        assert certificate.current_version_id == renewed.version_id and certificate.status == "active"
        assert certificate.versions.count() == 2
    waiting = wait_for_publication(tenant, renewed.version_id, lambda p: p.attempts >= 2)
    assert waiting.state == PublicationState.PENDING, waiting.last_error
    assert "could not be reached" in waiting.last_error and vault.root_token not in waiting.last_error

    vault.restart()  # same address and token; dev mode comes back empty
    done = wait_for_publication(tenant, renewed.version_id, lambda p: p.state == PublicationState.PUBLISHED)
    assert done.state == PublicationState.PUBLISHED, done.last_error
    with tenant_context(tenant):
        v2 = version_bundle(Certificate.objects.get(pk=certificate.pk).current_version)
    assert v2.version == 2 and v2 != v1
    assert reader.read("server", certificate.identifier) == v2
