"""Export a tenant, import it as a new one: the same rows, working tokens, readable secrets, an intact
audit chain; and every way an archive can be wrong refused before or without leaving a tenant behind."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import ApiToken, Domain, Tenant
from apps.backups.crypto import Tampered, WrongKey
from apps.backups.services import tenant_import
from apps.certificates.acme.models import DnsAccount
from apps.certificates.models import Certificate, CertificateVersion
from apps.certificates.pki.models import CertificateAuthority
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_verify
from tests.api.conftest import tenant_client
from tests.backups.conftest import PASSPHRASE, export_of
from tests.backups.rewrite import rewritten
from tests.factories import RFC2136, TEST_ACTOR
from tests.testapp.models import Vault


def restore(archive: bytes, slug: str = "gamma", **options):
    options.setdefault("passphrase", PASSPHRASE)
    return tenant_import(source=io.BytesIO(archive), slug=slug, actor=TEST_ACTOR, **options)


def contents() -> dict:
    """What a user would compare between two tenants, read in the current schema."""
    return {
        "certificates": sorted(Certificate.objects.values_list("kind", "identifier", "san_domains", "status")),
        "versions": sorted(CertificateVersion.objects.values_list("certificate__identifier", "number", "serial")),
        "keys": sorted(v.private_key for v in CertificateVersion.objects.all()),
        "cas": sorted((ca.name, ca.certificate_pem, ca.private_key) for ca in CertificateAuthority.objects.all()),
        "dns": sorted((a.name, json.dumps(a.credentials, sort_keys=True)) for a in DnsAccount.objects.all()),
        "vault": list(Vault.objects.values_list("name", flat=True)),
        "secrets": [v.secret for v in Vault.objects.all()],
        "tokens": sorted(ApiToken.objects.values_list("id", "prefix", "token_hash")),
        "events": list(AuditEvent.objects.order_by("id").values_list("id", "action", "hash")),
    }


def assert_nothing_created(slug: str = "gamma") -> None:
    connection.set_schema_to_public()
    assert not Tenant.objects.filter(schema_name=slug).exists()
    assert not schema_exists(slug)
    assert not Domain.objects.filter(domain=f"{slug}.test").exists()


def test_import_as_new_tenant_has_the_same_rows_tokens_secrets_and_chain(filled_a, tenant_a):
    with tenant_context(tenant_a):
        before = contents()
    archive = export_of(tenant_a)
    with tenant_context(tenant_a):
        exported = AuditEvent.objects.order_by("-id").first()
        assert exported.action == "backup.created"  # the export is an event of the source tenant

    report = restore(archive)

    assert (report.tenant, report.source) == ("gamma", "alpha")
    gamma = Tenant.objects.get(schema_name="gamma")
    assert gamma.get_primary_domain().domain == "gamma.test"  # derived from alpha.test
    assert gamma.name == tenant_a.name
    with tenant_context(gamma):
        after = contents()
        events = after.pop("events")
        assert events[: len(before["events"])] == before["events"]  # the same ids and hashes
        assert events[-1][1] == "backup.restored"  # recorded after the restored chain
        report = audit_verify()
        assert report.ok and report.checked == len(before["events"]) + 1
        assert Vault.objects.get().secret == "the secret of alpha"
        assert DnsAccount.objects.get(name="bind").credentials == RFC2136
    before.pop("events")
    assert after == before
    assert len(after["versions"]) == 3 and len(after["cas"]) == 2

    # The token made on A opens C's API and shows C's certificates.
    client = tenant_client(gamma)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {filled_a}")
    answer = client.get("/api/certificates")
    assert answer.status_code == 200, answer.content
    assert sorted(c["domain"] for c in answer.json()["certificates"]) == ["api.alpha.test", "www.alpha.test"]

    # New rows of C take new ids (sequences follow the restored rows).
    with tenant_context(gamma):
        assert Vault.objects.create(name="new", secret="x").pk > Vault.objects.get(name="vault").pk


def test_restore_onto_another_encryption_key_re_encrypts_the_secrets(filled_a, tenant_a):
    archive = export_of(tenant_a)
    new_key = Fernet.generate_key().decode()
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key]):
        restore(archive)
        with tenant_context(Tenant.objects.get(schema_name="gamma")):
            assert Vault.objects.get().secret == "the secret of alpha"
            assert DnsAccount.objects.get(name="bind").credentials == RFC2136
            with connection.cursor() as cursor:
                cursor.execute("SELECT secret FROM testapp_vault")
                stored = cursor.fetchone()[0]
    assert Fernet(new_key.encode()).decrypt(stored.removeprefix("enc1:").encode()) == b"the secret of alpha"


def test_platform_key_archive_needs_that_key(filled_a, tenant_a):
    archive = export_of(tenant_a, passphrase=None)
    restore(archive, "gamma")  # the same installation: its own key opens it
    other_keys = override_settings(CERTMATE_ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    with other_keys, pytest.raises(WrongKey, match="platform key this installation does not have"):
        restore(archive, "delta")
    assert_nothing_created("delta")
    backup_key = Fernet.generate_key().decode()
    with override_settings(CERTMATE_BACKUP_KEYS=[backup_key]):
        keyed = export_of(tenant_a, passphrase=None)
        restore(keyed, "epsilon")
    with pytest.raises(WrongKey):
        restore(keyed, "zeta")  # without CERTMATE_BACKUP_KEYS it is not openable


def test_wrong_passphrase_is_refused_before_anything_is_made(filled_a, tenant_a):
    archive = export_of(tenant_a)
    with pytest.raises(WrongKey, match="wrong passphrase"):
        restore(archive, passphrase="not the passphrase at all")
    with pytest.raises(WrongKey, match="encrypted with a passphrase"):
        restore(archive, passphrase=None)
    assert_nothing_created()


@pytest.mark.parametrize("where", ["header", "middle", "end", "cut"])
def test_changed_archive_is_refused(filled_a, tenant_a, where):
    archive = bytearray(export_of(tenant_a))
    if where == "header":
        archive[20] ^= 1
    elif where == "middle":
        archive[len(archive) // 2] ^= 1
    elif where == "end":
        archive[-1] ^= 1
    else:
        archive = archive[:-100]
    with pytest.raises((Tampered, WrongKey)):
        restore(bytes(archive), passphrase=PASSPHRASE)
    assert_nothing_created()


def test_failure_part_way_leaves_no_tenant(filled_a, tenant_a):
    """An archive whose table does not match its manifest (made with the right key) fails after the tenant
    and many rows were written: everything goes."""

    def drop_a_row(name: str, lines: list[bytes]) -> list[bytes]:
        return lines[:-1] if name == "certificates_certificateversion" else lines

    archive = rewritten(export_of(tenant_a), PASSPHRASE, tables=drop_a_row)
    with pytest.raises(Tampered, match="certificates_certificateversion"):
        restore(archive, passphrase=PASSPHRASE)
    assert_nothing_created()


def test_other_migrations_are_refused_with_the_difference(filled_a, tenant_a):
    def newer(manifest: dict) -> dict:
        manifest["migrations"]["certificates"].append("0999_from_the_future")
        return manifest

    archive = rewritten(export_of(tenant_a), PASSPHRASE, manifest=newer)
    with pytest.raises(ValidationError, match="certificates: the archive has 0999_from_the_future") as caught:
        restore(archive, passphrase=PASSPHRASE)
    assert caught.value.code == "migrations_differ"
    assert_nothing_created()


def test_existing_slug_needs_replace_and_only_its_own_backup(filled_a, tenant_a, tenant_b):
    archive = export_of(tenant_a)
    with pytest.raises(ValidationError, match="exists"):
        restore(archive, "beta", passphrase=PASSPHRASE)
    with pytest.raises(ValidationError, match="only a tenant's own backup replaces it"):
        restore(archive, "beta", passphrase=PASSPHRASE, replace=True)
    with pytest.raises(ValidationError):
        restore(archive, "bad slug!", passphrase=PASSPHRASE)
    with tenant_context(tenant_b):
        assert not Certificate.objects.exists()


def test_replace_puts_the_tenant_back_as_it_was(filled_a, tenant_a):
    with tenant_context(tenant_a):
        before = contents()
    archive = export_of(tenant_a)
    with tenant_context(tenant_a):
        Certificate.objects.filter(identifier="www.alpha.test").delete()
        Vault.objects.update(name="changed")
    restore(archive, "alpha", passphrase=PASSPHRASE, replace=True)
    with tenant_context(tenant_a):
        after = contents()
        assert audit_verify().ok
        assert AuditEvent.objects.order_by("-id").first().action == "backup.restored"
    assert after.pop("events")[: len(before["events"])] == before.pop("events")
    assert after == before


def test_backup_keys_rotate_like_encryption_keys(filled_a, tenant_a):
    """A new backup key goes first; archives of the old key open while it stays listed after it."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(CERTMATE_BACKUP_KEYS=[old]):
        archive = export_of(tenant_a, passphrase=None)
    with override_settings(CERTMATE_BACKUP_KEYS=[new, old]):
        restore(archive, "gamma")
        newer = export_of(tenant_a, passphrase=None)
    with override_settings(CERTMATE_BACKUP_KEYS=[new]):
        restore(newer, "delta")  # made with the new key
        with pytest.raises(WrongKey, match="CERTMATE_BACKUP_KEYS"):
            restore(archive, "epsilon")  # the old key was dropped
    assert_nothing_created("epsilon")
