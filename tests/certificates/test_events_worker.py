"""Through a real Celery worker: an event's processing is sent on commit, by name, in its tenant's
schema; the worker delivers it to storage, which publishes the version (and withdraws it once the
certificate is deleted)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateEvent, EventKind
from apps.certificates.services.certificates import certificate_delete
from apps.storage.models import Publication, PublicationState
from tests.factories import TEST_ACTOR, certificate_make

pytestmark = pytest.mark.worker


def wait_for(check: Callable[[], bool], what: str, worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{worker.log_text()[-3000:]}"
        time.sleep(0.2)


def test_the_worker_delivers_events_to_storage_in_their_tenant(worker, fresh_tenant):
    alpha, beta = fresh_tenant(), fresh_tenant()
    folders = [settings.CERTMATE_STORAGE_ROOT / tenant.schema_name for tenant in (alpha, beta)]
    try:
        with tenant_context(alpha):
            certificate = certificate_make("worker.example.com")
            version = certificate.current_version
        with tenant_context(beta):
            certificate_make("worker.example.com", with_accounts=False)

        def published() -> bool:
            with tenant_context(alpha):
                return Publication.objects.filter(version=version, state=PublicationState.PUBLISHED).exists()

        wait_for(published, "the issued version was not published", worker)
        key = folders[0] / "server" / "worker.example.com" / "privkey.pem"
        assert key.read_text() == version.private_key
        with tenant_context(alpha):
            certificate_delete(certificate=certificate, actor=TEST_ACTOR)
        wait_for(lambda: not key.exists(), "the deleted certificate's material was not withdrawn", worker)

        def processed() -> list[str]:
            with tenant_context(alpha):
                return sorted(
                    CertificateEvent.objects.filter(processed_at__isnull=False).values_list("kind", flat=True)
                )

        wait_for(lambda: processed() == sorted([EventKind.ISSUED, EventKind.DELETED]), "events left over", worker)
        other = folders[1] / "server" / "worker.example.com" / "privkey.pem"
        wait_for(other.exists, "beta's certificate was not published", worker)  # and not withdrawn with alpha's
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
