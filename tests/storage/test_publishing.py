"""Publishing versions to the tenant's target: states, retries, supersession, resync and the faces."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import Certificate
from apps.storage.models import Publication, PublicationState, StorageConfig
from apps.storage.services import (
    publication_publish,
    publication_request,
    publications_resync,
    storage_config_active,
    storage_config_set,
)
from certmate.actors import Actor
from certmate.locks import STORAGE_SLOT, one_slot_of
from tests.factories import TEST_ACTOR, issued_version

ACTOR = Actor.system("tests")

RFC2136 = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}
UNREACHABLE_VAULT = {"url": "http://127.0.0.1:9", "mount": "secret", "timeout": 2}


def storage_slot():
    return one_slot_of(STORAGE_SLOT, "storage", 2)


@pytest.fixture
def root(tmp_path, settings) -> Path:
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    settings.CERTMATE_PUBLISH_ATTEMPTS = 3
    return settings.CERTMATE_STORAGE_ROOT


def publish(version) -> Publication:
    publication = publication_request(version=version)
    return publication_publish(publication_id=publication.pk)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_local_is_the_default_target_with_no_setup(tenant_a, root):
    with tenant_a:
        config = storage_config_active()
        assert config.backend == "local_filesystem" and config.is_active
        assert storage_config_active().pk == config.pk


def test_a_published_version_lands_with_certmates_metadata(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt_staging", email="ops@alpha.test")
        dns = dns_account_create(
            actor=TEST_ACTOR,
            name="prod",
            provider="rfc2136",
            credentials={"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2"},
        )
        version = issued_version("*.shop.alpha.test", san=["shop.alpha.test"], ca_account=ca, dns_account=dns)
        publication = publish(version)
    assert publication.state == PublicationState.PUBLISHED and publication.published_at
    folder = root / "alpha" / "server" / "_2a.shop.alpha.test"
    assert (folder / "fullchain.pem").read_text() == version.fullchain_pem
    assert (folder / "privkey.pem").read_text() == version.private_key
    metadata = json.loads((folder / "metadata.json").read_text())
    assert {
        k: metadata[k] for k in ("domain", "dns_provider", "email", "staging", "account_id", "certificate_type")
    } == {
        "domain": "*.shop.alpha.test",
        "dns_provider": "rfc2136",
        "email": "ops@alpha.test",
        "staging": True,
        "account_id": "prod",
        "certificate_type": "DV",
    }
    assert metadata["renewed_at"] is None and metadata["created_at"]
    assert metadata["serial"] == version.serial and metadata["fingerprint_sha256"] == version.fingerprint_sha256
    assert sorted(metadata["san"]) == ["*.shop.alpha.test", "shop.alpha.test"]
    assert metadata["key_algorithm"] == "EC" and metadata["key_size"] == 256
    assert (
        metadata["extended_key_usage"] == version.extended_key_usage and "server_auth" in metadata["extended_key_usage"]
    )
    assert metadata["not_after"] == version.not_after.isoformat()


def test_a_renewal_archives_the_earlier_version(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        first = issued_version("renewed.alpha.test")
        publish(first)
        second = issued_version("renewed.alpha.test")
        publish(second)
    folder = root / "alpha" / "server" / "renewed.alpha.test"
    assert (folder / "cert.pem").read_text() == second.certificate_pem
    assert (folder / "archive" / "cert1.pem").read_text() == first.certificate_pem
    assert json.loads((folder / "metadata.json").read_text())["renewed_at"] == second.created_at.isoformat()


def test_an_older_version_never_lands_over_a_newer_one(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        first = issued_version("order.alpha.test")
        late = publication_request(version=first)
        second = issued_version("order.alpha.test")
        publish(second)
        late = publication_publish(publication_id=late.pk)
    assert late.state == PublicationState.SUPERSEDED
    assert (root / "alpha/server/order.alpha.test/cert.pem").read_text() == second.certificate_pem


def test_a_failing_target_keeps_the_certificate_and_retries_then_fails(
    tenant_a, root, django_capture_on_commit_callbacks
):
    with tenant_a:
        with django_capture_on_commit_callbacks(execute=False):
            storage_config_set(
                actor=ACTOR,
                backend="hashicorp_vault",
                settings=UNREACHABLE_VAULT,
                credentials={"token": "t0k"},
                test=False,
            )
            version = issued_version("down.alpha.test")
            publication = publication_request(version=version)
        with django_capture_on_commit_callbacks(execute=False) as retries:
            publication = publication_publish(publication_id=publication.pk)
        assert publication.state == PublicationState.PENDING and publication.attempts == 1
        assert "HashiCorp Vault" in publication.last_error and "retrying in" in publication.last_error
        assert "t0k" not in publication.last_error
        assert len(retries) == 1  # the retry is queued, with backoff
        with django_capture_on_commit_callbacks(execute=False):
            for _ in range(2):
                publication = publication_publish(publication_id=publication.pk)
        assert publication.state == PublicationState.FAILED and publication.attempts == 3
        assert "storage resync" in publication.last_error
        version.certificate.refresh_from_db()
        assert version.certificate.current_version_id == version.pk and version.certificate.status == "active"


def test_resync_republishes_what_the_target_lost(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        kept, lost = issued_version("kept.alpha.test"), issued_version("lost.alpha.test")
        publish(kept), publish(lost)
        shutil.rmtree(root / "alpha" / "server" / "lost.alpha.test")
        report = publications_resync(actor=ACTOR)
        assert (report.checked, report.published, report.failed) == (2, 1, [])
        assert (root / "alpha/server/lost.alpha.test/privkey.pem").read_text() == lost.private_key
        assert publications_resync(actor=ACTOR).published == 0  # safe to repeat


def test_resync_command_publishes_pending_and_reports(tenant_a, tenant_b, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        issued_version("cmd.alpha.test")
    with tenant_b, django_capture_on_commit_callbacks(execute=False):
        issued_version("cmd.beta.test")
    out = run("storage", "resync", "--tenant", "alpha")
    assert out.splitlines()[0].startswith("alpha: 1 checked, 1 published, 0 failed")
    assert (root / "alpha/server/cmd.alpha.test/cert.pem").exists()
    assert not (root / "beta").exists()  # only the tenant named
    assert "published: 1" in run("storage", "status", "--tenant", "alpha")


def test_resync_command_fails_naming_the_reason(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        storage_config_set(
            actor=ACTOR, backend="hashicorp_vault", settings=UNREACHABLE_VAULT, credentials={"token": "t"}, test=False
        )
        issued_version("fail.alpha.test")
    out = StringIO()
    with pytest.raises(CommandError, match="could not be published"):
        call_command("storage", "resync", "--tenant", "alpha", stdout=out, stderr=out)
    assert "alpha: Vault at http://127.0.0.1:9" in out.getvalue() and "could not be reached" in out.getvalue()


def test_setting_an_unreachable_target_is_refused_and_the_old_one_stays(tenant_a, root):
    from apps.storage.backends.base import StorageError

    with tenant_a:
        before = storage_config_active()
        with pytest.raises(StorageError, match=r"127\.0\.0\.1:9"):
            storage_config_set(
                actor=ACTOR, backend="hashicorp_vault", settings=UNREACHABLE_VAULT, credentials={"token": "x"}
            )
        assert storage_config_active().pk == before.pk
        assert StorageConfig.objects.count() == 1


@pytest.mark.parametrize(
    ("backend", "settings", "message"),
    [
        ("ftp", {}, "unknown"),
        ("hashicorp_vault", {}, "needs 'url'"),
        ("hashicorp_vault", {"url": "http://v", "colour": "red"}, "no setting 'colour'"),
    ],
)
def test_bad_settings_are_refused_field_by_field(tenant_a, backend, settings, message):
    from django.core.exceptions import ValidationError

    with tenant_a, pytest.raises(ValidationError, match=message):
        storage_config_set(actor=ACTOR, backend=backend, settings=settings, credentials={}, test=False)


def test_migrate_to_an_unreachable_target_changes_nothing(tenant_a, root, tmp_path, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        publish(issued_version("stay.alpha.test"))
    credentials = tmp_path / "vault.json"
    credentials.write_text('{"token": "s3cret-token"}')
    argv = ["--to", "hashicorp_vault", "--setting", "url=http://127.0.0.1:9", "--credentials-file", str(credentials)]
    with pytest.raises(CommandError, match=r"127\.0\.0\.1:9") as failure:
        run("storage", "migrate", "--tenant", "alpha", *argv)
    assert "s3cret-token" not in str(failure.value)
    with tenant_a:
        assert storage_config_active().backend == "local_filesystem"
    assert (root / "alpha/server/stay.alpha.test/cert.pem").exists()


@pytest.mark.parametrize("backend", ["aws_secrets_manager", "azure_keyvault"])
def test_cloud_targets_need_credentials_unless_the_platform_lends_its_identity(tenant_a, settings, backend):
    from django.core.exceptions import ValidationError

    from apps.storage.services import storage_config_validate

    given = {
        "aws_secrets_manager": {"region": "eu-west-1"},
        "azure_keyvault": {"vault_url": "https://v.vault.azure.net"},
    }
    with pytest.raises(ValidationError, match="CERTMATE_STORAGE_PLATFORM_CREDENTIALS"):
        storage_config_validate(backend=backend, settings=given[backend], credentials={})
    settings.CERTMATE_STORAGE_PLATFORM_CREDENTIALS = True
    assert storage_config_validate(backend=backend, settings=given[backend], credentials={}) == given[backend]


def test_deleting_a_certificate_withdraws_its_published_material(
    tenant_a, root, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.certificates.services.certificates import certificate_delete
    from certmate.celery import app as celery_app

    with tenant_a:
        with django_capture_on_commit_callbacks(execute=False):
            publish(issued_version("gone.alpha.test"))
            kept = issued_version("kept.alpha.test")
            publish(kept)
        assert (root / "alpha/server/gone.alpha.test/privkey.pem").exists()
        monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
        with django_capture_on_commit_callbacks(execute=True):
            certificate_delete(certificate=Certificate.objects.get(identifier="gone.alpha.test"), actor=TEST_ACTOR)
    assert not (root / "alpha/server/gone.alpha.test").exists()
    assert (root / "alpha/server/kept.alpha.test/privkey.pem").read_text() == kept.private_key


@pytest.mark.parametrize("error", [KeyError("data"), ValueError("could not decode b'<h1>internal admin</h1>'")])
def test_an_unexpected_error_is_recorded_and_retried_not_lost(
    error, tenant_a, root, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.storage.backends.local import LocalFilesystemBackend

    def broken(self, bundle):
        raise error

    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        publication = publication_request(version=issued_version("bug.alpha.test"))
        monkeypatch.setattr(LocalFilesystemBackend, "store", broken)
        publication = publication_publish(publication_id=publication.pk)
        stored = Publication.objects.get(pk=publication.pk)
    assert (stored.state, stored.attempts) == (PublicationState.PENDING, 1)
    assert f"internal error: {type(error).__name__}" in stored.last_error and stored.next_attempt_at is not None
    # An error no backend maps may carry anything, e.g. what the target answered: the log has its text.
    assert str(error) not in stored.last_error and "internal admin" not in stored.last_error


def test_a_publish_whose_message_was_lost_is_sent_again_by_the_sweep(
    tenant_a, root, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.storage.services import publications_retry_due

    with tenant_a:
        with django_capture_on_commit_callbacks(execute=False):
            publication = publication_request(version=issued_version("lost-message.alpha.test"))
        assert publication.next_attempt_at is not None
        assert publications_retry_due() == 0  # not overdue yet
        Publication.objects.filter(pk=publication.pk).update(next_attempt_at=None)  # as rows made before
        later = timezone.now() + timedelta(minutes=10)
        with django_capture_on_commit_callbacks(execute=False) as sent:
            assert publications_retry_due(now=later) == 1
        assert len(sent) == 1


def test_a_publish_for_a_target_no_longer_active_hands_over(tenant_a, root, django_capture_on_commit_callbacks):
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        old = publication_request(version=issued_version("moved.alpha.test"))
        storage_config_set(
            actor=ACTOR, backend="hashicorp_vault", settings=UNREACHABLE_VAULT, credentials={"token": "t"}, test=False
        )
        old = publication_publish(publication_id=old.pk)
        assert old.state == PublicationState.SUPERSEDED and "another target" in old.last_error
        new = Publication.objects.exclude(pk=old.pk).get(version=old.version)
        assert new.target.backend == "hashicorp_vault" and new.state == PublicationState.PENDING


@pytest.mark.parametrize("credentials", [{}, {"access_key_id": "", "secret_access_key": ""}])
def test_empty_credentials_never_borrow_the_platform_identity(tenant_a, credentials):
    from django.core.exceptions import ValidationError

    from apps.storage.backends.base import StorageError
    from apps.storage.services import storage_backend, storage_config_validate

    with pytest.raises(ValidationError, match="CERTMATE_STORAGE_PLATFORM_CREDENTIALS"):
        storage_config_validate(
            backend="aws_secrets_manager", settings={"region": "eu-west-1"}, credentials=credentials
        )
    with tenant_a, pytest.raises(StorageError, match="no credentials"):
        config = StorageConfig(backend="aws_secrets_manager", settings={"region": "eu-west-1"}, credentials=credentials)
        storage_backend(config)


def test_a_late_withdraw_spares_a_certificate_made_again(tenant_a, root, django_capture_on_commit_callbacks):
    from apps.storage.services.publishing import publication_withdraw_now

    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        publish(issued_version("again.alpha.test"))
        assert publication_withdraw_now(kind="server", identifier="again.alpha.test") is False
    assert (root / "alpha/server/again.alpha.test/privkey.pem").exists()


def test_a_republished_version_carries_what_changed(tenant_a, root, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from apps.certificates.models import CertificateVersion
    from apps.storage.services import publication_republish

    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        version = issued_version("revoked.alpha.test")
        publish(version)
        CertificateVersion.objects.filter(pk=version.pk).update(revoked_at=timezone.now(), revocation_reason="x")
        version.refresh_from_db()
        again = publication_republish(version=version)
        assert again.state == PublicationState.PENDING
        assert publication_publish(publication_id=again.pk).state == PublicationState.PUBLISHED
    metadata = json.loads((root / "alpha/server/revoked.alpha.test/metadata.json").read_text())
    assert metadata["revoked_at"] == version.revoked_at.isoformat()


@override_settings(CERTMATE_TENANT_CONCURRENCY=2, CERTMATE_TENANT_SLOT_RETRY_SECONDS=5)
def test_a_tenants_publishes_take_its_share_of_the_workers_and_no_more(
    tenant_a, tenant_b, root, monkeypatch, django_capture_on_commit_callbacks
):
    # A target answering slowly holds a worker per publish: a tenant with many certificates held them all.
    from apps.storage.backends.local import LocalFilesystemBackend

    calls = []
    monkeypatch.setattr(LocalFilesystemBackend, "store", lambda self, bundle: calls.append(bundle.identifier))
    with tenant_a, django_capture_on_commit_callbacks(execute=False):
        waiting = publication_request(version=issued_version("waits.alpha.test"))
    with tenant_b, django_capture_on_commit_callbacks(execute=False):
        other = publication_request(version=issued_version("other.beta.test"))
    with tenant_a:
        with storage_slot() as first, storage_slot() as second, django_capture_on_commit_callbacks() as sent:
            assert None not in (first, second)  # two of alpha's publishes are talking to its target
            waited = publication_publish(publication_id=waiting.pk)
            with tenant_b:
                assert publication_publish(publication_id=other.pk).state == PublicationState.PUBLISHED
        assert (waited.state, waited.attempts, calls) == (PublicationState.PENDING, 0, ["other.beta.test"])
        assert len(sent) == 1  # sent again, later
        assert publication_publish(publication_id=waiting.pk).state == PublicationState.PUBLISHED
