"""Every older settings.json form CertMate 2.x still reads (tests/fixtures/certmate/legacy, each checked
by loading it through CertMate's own SettingsManager) imports to the same accounts CertMate derives."""

from __future__ import annotations

import json
import shutil

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken, User
from apps.certificates.acme.models import CaAccount, DnsAccount
from apps.importing.report import Outcome
from tests.api.conftest import tenant_client
from tests.importing.conftest import FIXTURE, run_import

pytestmark = pytest.mark.django_db
LEGACY = FIXTURE / "legacy"


@pytest.fixture
def legacy_import(tenant_a, tmp_path):
    def run(form: str, **options):
        (tmp_path / "data").mkdir(exist_ok=True)
        shutil.copy(LEGACY / f"settings-legacy-{form}.json", tmp_path / "data" / "settings.json")
        return run_import(tenant_a, path=tmp_path, **options)

    return run


def _dns(tenant) -> dict[tuple[str, str], dict]:
    with tenant_context(tenant):
        return {(a.provider, a.name): (a.credentials, a.is_default) for a in DnsAccount.objects.all()}


def test_single_account_per_provider(tenant_a, legacy_import):
    report = legacy_import("single-account")
    accounts = _dns(tenant_a)
    assert accounts[("cloudflare", "default")] == ({"api_token": "cf-legacy-single-token"}, True)
    assert accounts[("rfc2136", "default")][0]["tsig_key"] == "alpha-key"
    # Not an AWS-shaped secret in the fixture: refused by the provider's check and named, not imported.
    assert "secret_access_key" in {e.item: e.reason for e in report.entries}["settings.json: dns_providers.route53"]


def test_accounts_written_straight_under_the_provider(tenant_a, legacy_import):
    legacy_import("accounts-without-wrapper")
    accounts = _dns(tenant_a)
    assert accounts[("cloudflare", "production")] == ({"api_token": "cf-unwrapped-production"}, True)
    assert accounts[("cloudflare", "staging")] == ({"api_token": "cf-unwrapped-staging"}, False)


@pytest.mark.parametrize(
    ("form", "token"),
    [
        ("backup-wrapped", "cf-wrapped-token"),
        ("cloudflare-token", "cf-top-level-legacy-token"),
        ("domain-strings", "cf-legacy-token-strings"),
        ("letsencrypt-environment", "cf-le-env-token"),
    ],
)
def test_the_default_cloudflare_account_of_each_form(tenant_a, legacy_import, form, token):
    report = legacy_import(form)
    assert _dns(tenant_a)[("cloudflare", "default")] == ({"api_token": token}, True)
    # Their domains have no certificate folder here: named, to be requested.
    migrated = json.loads((LEGACY / "migrated-by-certmate" / f"settings-legacy-{form}.json").read_text())
    named = {e.item for e in report.by_outcome(Outcome.ATTENTION) if e.item.startswith("settings.json: domains[")}
    assert len(named) == len(migrated.get("domains", []))


def test_ca_accounts_with_the_older_eab_names_and_environment(tenant_a, legacy_import):
    legacy_import("ca-flat-eab-key-names")
    with tenant_context(tenant_a):
        zerossl = CaAccount.objects.get(name="zerossl-default")
        assert (zerossl.eab_kid, zerossl.eab_hmac_key) == ("zerossl-legacy-kid", "emVyb3NzbC1sZWdhY3ktaG1hYy1rZXk")
        assert zerossl.is_default and zerossl.preset == "zerossl"
        private = CaAccount.objects.get(name="private_ca-default")
        assert private.directory_url == "https://acme.internal.alpha.test/directory"
    legacy_import("letsencrypt-environment")
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(name="letsencrypt-default").preset == "letsencrypt"


def test_plain_sha256_tokens_and_a_plaintext_bearer_token_keep_working(tenant_a, legacy_import):
    secrets = json.loads((LEGACY / "legacy-secrets.json").read_text())["settings-legacy-auth-hashes.json"]
    report = legacy_import("auth-hashes", users_domain="alpha.test")
    client = tenant_client(tenant_a)
    for raw in (secrets["api_bearer_token"], secrets["api_keys"]["legacy-sha256-key"]):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/certificates").status_code == 200
    with tenant_context(tenant_a):
        assert ApiToken.objects.get(name="CertMate: legacy-sha256-key").role == "operator"
        assert User.objects.get(email="ursula@alpha.test").role == "operator"  # CertMate's old "user"
        assert User.objects.get(email="root@alpha.test").role == "admin"
    assert secrets["api_bearer_token"] not in report.as_json()
