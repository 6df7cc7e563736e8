"""Storage follows certificate events: a new current version is published, a revoked current version
published again, a deleted certificate's material withdrawn; a publication that gives up is an event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

from apps.certificates.models import CertificateEvent, CertificateVersion, EventKind
from apps.certificates.services.certificates import certificate_delete
from apps.certificates.services.events import event_record
from apps.storage.models import Publication, PublicationState
from apps.storage.services import publication_publish, publication_request, storage_config_set
from certmate.celery import app as celery_app
from tests.factories import TEST_ACTOR, certificate_make, version_add

UNREACHABLE_VAULT = {"url": "http://127.0.0.1:9", "mount": "secret", "timeout": 2}


@pytest.fixture
def root(tmp_path, settings, monkeypatch) -> Path:
    """Published material in a folder of the test's own; what is sent to Celery runs here and now."""
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return settings.CERTMATE_STORAGE_ROOT


def test_issued_and_renewed_versions_reach_the_target_through_their_events(
    tenant_a, root, django_capture_on_commit_callbacks
):
    folder = root / "alpha" / "server" / "follow.alpha.test"
    with tenant_a:
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_make("follow.alpha.test")
        assert (folder / "cert.pem").read_text() == certificate.current_version.certificate_pem
        with django_capture_on_commit_callbacks(execute=True):
            second = version_add(certificate)
        assert (folder / "cert.pem").read_text() == second.certificate_pem
        assert Publication.objects.get(version=second).state == PublicationState.PUBLISHED
        assert not CertificateEvent.objects.filter(identifier="follow.alpha.test", processed_at__isnull=True).exists()


def test_a_revoked_current_version_is_published_again_and_an_older_one_is_not(
    tenant_a, root, django_capture_on_commit_callbacks
):
    folder = root / "alpha" / "server" / "revoke.alpha.test"
    with tenant_a:
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_make("revoke.alpha.test", versions=2)
        older, current = certificate.versions.order_by("number")
        for version in (older, current):  # as the revocation job records it
            with django_capture_on_commit_callbacks(execute=True):
                CertificateVersion.objects.filter(pk=version.pk).update(
                    revoked_at=timezone.now(), revocation_reason="x"
                )
                event_record(kind=EventKind.REVOKED, certificate=certificate, version=version)
            metadata = json.loads((folder / "metadata.json").read_text())
            assert metadata["version"] == 2
            assert (metadata["revoked_at"] is not None) == (version == current)


def test_a_deleted_certificates_material_is_withdrawn(tenant_a, root, django_capture_on_commit_callbacks):
    folder = root / "alpha" / "server" / "withdrawn.alpha.test"
    with tenant_a:
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_make("withdrawn.alpha.test")
        assert (folder / "privkey.pem").exists()
        with django_capture_on_commit_callbacks(execute=True):
            certificate_delete(certificate=certificate, actor=TEST_ACTOR)
        assert not (folder / "privkey.pem").exists()


def test_a_publication_that_gives_up_records_an_event(tenant_a, settings, django_capture_on_commit_callbacks):
    settings.CERTMATE_PUBLISH_ATTEMPTS = 2
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        storage_config_set(
            backend="hashicorp_vault",
            settings=UNREACHABLE_VAULT,
            credentials={"token": "t0k"},
            test=False,
            actor=TEST_ACTOR,
        )
        version = certificate_make("gives-up.alpha.test").current_version
        publication = publication_request(version=version)
        for _ in range(2):
            publication = publication_publish(publication_id=publication.pk)
        assert publication.state == PublicationState.FAILED
        [event] = CertificateEvent.objects.filter(identifier="gives-up.alpha.test", kind=EventKind.PUBLICATION_FAILED)
        assert (event.version_id, event.detail["target"], event.detail["attempts"]) == (
            version.pk,
            "HashiCorp Vault",
            2,
        )
        assert "could not be reached" in event.detail["reason"] and "t0k" not in event.detail["reason"]
