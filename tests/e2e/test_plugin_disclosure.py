"""A tenant's DNS account must not read the certmate host's files into a job's error (issue 10).

lego's edgedns provider parses the file named by AKAMAI_EDGERC and quoted the first line it could not
parse in its error; pointed at the server's secret key, that line was the key."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme import runner
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.providers import _write_private
from apps.certificates.models import Certificate, DnsAccount, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.e2e.issuance import accounts_for, unique
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


@pytest.fixture
def host_secret(tmp_path) -> tuple[Path, str]:
    """A file the worker can read, shaped like var/secret_key: one line, no '=' and no ':'."""
    value = secrets.token_urlsafe(40).replace("-", "x").replace("_", "y")
    path = tmp_path / "secret_key"
    path.write_text(value + "\n")
    return path, value


def test_an_account_naming_a_host_file_fails_without_showing_it(tenant_a, pebble, bind9, host_secret):
    path, value = host_secret
    ca, _ = accounts_for(tenant_a, pebble, bind9)
    with tenant_context(tenant_a):
        # Stored as a tenant could before the allowlist: straight into the table, past every check.
        dns = DnsAccount.objects.create(
            name=unique("akamai-"), provider="multi", credentials={"provider": "edgedns", "AKAMAI_EDGERC": str(path)}
        )
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        job = certificate_issue(job_id=job.pk)
        certificate = Certificate.objects.get(pk=job.certificate_id)
    assert job.status == JobStatus.FAILED
    assert "AKAMAI_EDGERC is not allowed" in job.error
    for text in (job.error, job.output, certificate.last_error):
        assert value not in text


def test_plugin_output_quoting_a_host_file_is_not_passed_on(pebble, host_secret, tmp_path):
    """Even past validation (a provider certmate does not know yet), what lego read stays out."""
    path, value = host_secret
    account = runner.AcmeAccount(
        directory_url=pebble.directory_url, email="admin@certmate.test", trust_bundle=pebble.ca_bundle.read_text()
    )
    account = runner.AcmeAccount(**{**account.__dict__, "files": runner.register(account)})

    def dns_setup(folder: Path):
        ini = folder / "multi.ini"
        _write_private(ini, f"dns_multi_provider = edgedns\nAKAMAI_EDGERC = {path}\n")
        return ["--authenticator", "dns-multi", "--dns-multi-credentials", str(ini)], {}

    order = runner.Order(account=account, domains=[f"{unique()}.certmate.test"], key_type="ec256", dns_setup=dns_setup)
    with pytest.raises(runner.CertbotError) as failed:
        runner.obtain(order)
    assert "edgerc" in failed.value.output.lower(), failed.value.output  # lego did try, and said so
    assert value not in failed.value.reason
    assert value not in failed.value.output


def test_a_lego_provider_issues_from_a_launcher_child(tenant_a, pebble, bind9):
    """lego is not loaded in the launcher: each certbot child loads it with its own run's environment."""
    ca, _ = accounts_for(tenant_a, pebble, bind9)
    credentials = {
        "provider": "dnsupdate",
        "DNSUPDATE_NAMESERVER": f"127.0.0.1:{bind9.port}",
        "DNSUPDATE_TSIG_KEY": bind9.tsig_name,
        "DNSUPDATE_TSIG_SECRET": bind9.tsig_secret,
        "DNSUPDATE_TSIG_ALGORITHM": "hmac-sha256.",
    }
    with tenant_context(tenant_a):
        dns = dns_account_create(
            actor=TEST_ACTOR, name=unique("lego-"), provider="multi", credentials=credentials, propagation_seconds=1
        )
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        job = certificate_issue(job_id=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert bind9.tsig_secret not in job.output
