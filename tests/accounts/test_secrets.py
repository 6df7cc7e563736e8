"""Secrets are encrypted at rest, readable with any configured key, and rotated to the newest."""

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from certmate.encryption import PREFIX, DecryptionError
from tests.conftest import TENANT_A
from tests.database_dump import database_dump, pg_dump_program
from tests.testapp.models import Vault

TOKEN = "cf-api-token-Zq8rT3vNw1"


def stored_column(pk: int, column: str = "secret") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM testapp_vault WHERE id = %s", [pk])  # noqa: S608 - fixed column names
        return cursor.fetchone()[0]


def test_secret_is_stored_encrypted_and_read_back_in_clear(tenant_a):
    with tenant_context(tenant_a):
        vault = Vault.objects.create(name="dns", secret=TOKEN)
        raw = stored_column(vault.pk)
        assert raw.startswith(PREFIX)
        assert TOKEN not in raw
        assert Vault.objects.get(pk=vault.pk).secret == TOKEN
        # Randomised encryption: the same secret never gives the same ciphertext twice.
        other = Vault.objects.create(name="dns2", secret=TOKEN)
        assert stored_column(other.pk) != raw


def test_encrypted_columns_refuse_lookups_instead_of_matching_nothing(tenant_a):
    with tenant_context(tenant_a), pytest.raises(FieldError, match="is encrypted and cannot be filtered"):
        list(Vault.objects.filter(secret=TOKEN))


def test_unknown_key_gives_an_actionable_error(tenant_a):
    with tenant_context(tenant_a):
        vault = Vault.objects.create(name="dns", secret=TOKEN)
        unknown_key = Fernet.generate_key().decode()
        with (
            override_settings(CERTMATE_ENCRYPTION_KEYS=[unknown_key]),
            pytest.raises(DecryptionError, match="add the key it was encrypted with back to the list"),
        ):
            Vault.objects.get(pk=vault.pk)


def test_rotation_re_encrypts_every_tenant_with_the_newest_key(tenant_a, tenant_b):
    old_keys = list(settings.CERTMATE_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    rows = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            rows[tenant.schema_name] = Vault.objects.create(
                name="dns", secret=f"{TOKEN}-{tenant.schema_name}", other_secret=None
            ).pk
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key, *old_keys]):
        from io import StringIO

        out = StringIO()
        call_command("secrets", "rotate", stdout=out)
        # Our two rows at least (rows committed by other tests in these schemas are rotated too).
        assert int(out.getvalue().split()[-1]) >= 2
        out = StringIO()
        call_command("secrets", "rotate", stdout=out)
        assert out.getvalue().splitlines()[-1].endswith("re-encrypted 0"), "a second run must find nothing to do"
    # The old keys can now be dropped: every secret opens with the new key alone.
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key]):
        for tenant in (tenant_a, tenant_b):
            with tenant_context(tenant):
                vault = Vault.objects.get(pk=rows[tenant.schema_name])
                assert vault.secret == f"{TOKEN}-{tenant.schema_name}"
                assert vault.other_secret is None


def test_a_database_dump_holds_no_plaintext_secret(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        pg_dump = pg_dump_program()
        tenant = Tenant.objects.get(schema_name=TENANT_A["slug"])
        with tenant_context(tenant):
            vault = Vault.objects.create(name="dumped", secret=TOKEN)  # committed: pg_dump sees it
            ciphertext = stored_column(vault.pk)
            # The real secret fields too: DNS credentials, an EAB key, an ACME account, a private key.
            from apps.certificates.models import CaAccount, DnsAccount

            dns = DnsAccount.objects.create(
                name="dumped", provider="rfc2136", credentials={"tsig_secret": f"{TOKEN}-dns"}
            )
            ca = CaAccount.objects.create(
                name="dumped", directory_url="https://ca.test/dir", email="a@alpha.test", eab_hmac_key=f"{TOKEN}-eab",
                acme_account={"accounts/x/private_key.json": f"{TOKEN}-acme"},
            )  # fmt: skip
        try:
            dump = database_dump(pg_dump)
        finally:
            with tenant_context(tenant):
                Vault.objects.filter(pk=vault.pk).delete()
                DnsAccount.objects.filter(pk=dns.pk).delete()
                CaAccount.objects.filter(pk=ca.pk).delete()
    assert ciphertext in dump, "the dump must contain the row, or it proves nothing"
    assert "dumped" in dump and "https://ca.test/dir" in dump
    assert TOKEN not in dump, "no secret of any kind in clear"


def test_rotation_keeps_structured_secrets_intact(tenant_a):
    """Credentials (JSON), EAB keys, ACME accounts and private keys read back the same after rotation."""
    from apps.certificates.models import CaAccount, DnsAccount

    credentials = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}
    with tenant_context(tenant_a):
        dns = DnsAccount.objects.create(name="bind", provider="rfc2136", credentials=credentials)
        ca = CaAccount.objects.create(
            name="ca", directory_url="https://ca.test/dir", email="a@alpha.test", eab_hmac_key="hmac-value",
            acme_account={"accounts/ca.test/dir/1/regr.json": '{"uri": "https://ca.test/acct/1"}'},
        )  # fmt: skip
    new_key = Fernet.generate_key().decode()
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key, *settings.CERTMATE_ENCRYPTION_KEYS]):
        call_command("secrets", "rotate", stdout=__import__("io").StringIO())
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key]), tenant_context(tenant_a):
        assert DnsAccount.objects.get(pk=dns.pk).credentials == credentials
        ca = CaAccount.objects.get(pk=ca.pk)
        assert ca.eab_hmac_key == "hmac-value"
        assert ca.acme_account == {"accounts/ca.test/dir/1/regr.json": '{"uri": "https://ca.test/acct/1"}'}
