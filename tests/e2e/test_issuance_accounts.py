"""ACME accounts are made once and reused; a hung certbot is stopped; the command line works."""

from __future__ import annotations

import os
import tempfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.certificates.models import CaAccount, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from certmate.encryption import PREFIX
from tests.conftest import TENANT_A
from tests.e2e.issuance import accounts_for, holding, unique
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


def test_the_acme_account_is_registered_once_kept_encrypted_and_reused(tenant_a, pebble, bind9):
    ca, dns = accounts_for(tenant_a, pebble, bind9)
    with tenant_context(tenant_a):
        assert CaAccount.objects.get(pk=ca.pk).acme_account is None
        uris = []
        for _ in range(2):
            job = certificate_request(
                identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
            )
            assert certificate_issue(job_id=job.pk).status == JobStatus.SUCCEEDED
            uris.append(CaAccount.objects.get(pk=ca.pk).acme_account_uri)
        with connection.cursor() as cursor:
            cursor.execute("SELECT acme_account FROM accounts_caaccount WHERE id = %s", [ca.pk])
            raw = cursor.fetchone()[0]
    assert uris[0] and uris[0] == uris[1]
    assert raw.startswith(PREFIX) and "private_key" not in raw


def test_a_hung_certbot_is_stopped_at_the_timeout_and_nothing_is_left(tenant_a, pebble, bind9):
    ca, dns = accounts_for(tenant_a, pebble, bind9, propagation_check="fixed")
    before = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("certmate-certbot-")}
    with tenant_context(tenant_a):
        dns.propagation_seconds = 600  # certbot sleeps this long before asking the CA to validate
        dns.save()
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        with override_settings(CERTMATE_CERTBOT_TIMEOUT=8, CERTMATE_RETRY_ATTEMPTS=1):
            job = certificate_issue(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert job.error.endswith("certbot did not finish within 8 s and was stopped")
    after = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("certmate-certbot-")}
    assert not holding(after - before, dns.credentials["tsig_secret"]), "the run's folder must be removed"


@pytest.mark.worker
def test_certificate_issue_and_list_commands(live_db, worker, pebble, bind9):
    tenant = Tenant.objects.get(schema_name=TENANT_A["slug"])
    ca, dns = accounts_for(tenant, pebble, bind9)
    domain = f"{unique()}.certmate.test"
    out = StringIO()
    call_command(
        "certificate", "issue", "--tenant", "alpha", domain, "--san", f"www.{domain}",
        "--ca-account", ca.name, "--dns-account", f"rfc2136:{dns.name}", "--key-type", "ec384", "--wait",
        "--timeout", "180", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(f"issue {domain} queued")
    assert "succeeded in" in lines[1] and "version 1, serial" in lines[1]
    out = StringIO()
    call_command("certificate", "list", "--tenant", "alpha", stdout=out)
    row = next(line.split() for line in out.getvalue().splitlines() if line.startswith(domain))
    assert row[:4] == [domain, f"www.{domain}", "active", "1"]


def test_certificate_command_errors_are_one_line(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"^no tenant with slug 'nobody'"):
        call_command("certificate", "list", "--tenant", "nobody")
    with pytest.raises(CommandError, match="a wildcard may only be the whole leftmost label"):
        call_command("certificate", "issue", "--tenant", "alpha", "a.*.example.com")
    with pytest.raises(CommandError, match="no CA account is named 'missing'"):
        call_command("certificate", "issue", "--tenant", "alpha", "ok.example.com", "--ca-account", "missing")
