"""A DNS plugin's own HTTP calls go through the run's egress proxy: a PowerDNS API whose name resolves to
loopback is never reached, while the CA (allowed by name) answers as usual."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import DnsAccount, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.e2e.issuance import unique
from tests.egress import LOOPBACK_NAME, Listener, http_reply
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


def pebble_by_name(pebble):
    """A CA account for Pebble, reached by the name ``localhost`` (which the tests below allow)."""
    return ca_account_create(
        actor=TEST_ACTOR,
        name=unique("pebble-"),
        directory=f"https://localhost:{pebble.port}/dir",
        email="admin@certmate.test",
        trust_bundle=pebble.ca_bundle.read_text(),
    )


def test_a_plugins_api_resolving_to_loopback_is_refused_at_the_proxy(tenant_a, pebble, settings):
    # Pebble is allowed by its name only; the PowerDNS API's name resolves to 127.0.0.1, which is not allowed.
    settings.CERTMATE_EGRESS_ALLOW = ["localhost"]
    with Listener(http_reply(body=b"[]", headers={"Content-Type": "application/json"})) as powerdns:
        with tenant_context(tenant_a):
            ca = pebble_by_name(pebble)
            dns = dns_account_create(
                actor=TEST_ACTOR,
                name=unique("pdns-"),
                provider="powerdns",
                credentials={"api_url": f"http://{LOOPBACK_NAME}:{powerdns.port}", "api_key": "pdns-key"},
                propagation_seconds=1,
            )
            job = certificate_request(
                identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
            )
            job = certificate_issue(job_id=job.pk)
        assert powerdns.accepted == 0
    assert job.status == JobStatus.FAILED
    assert f"{LOOPBACK_NAME}: 127.0.0.1 is a loopback address" in job.error, job.error
    with tenant_context(tenant_a):
        ca.refresh_from_db()
        assert ca.registered_at is not None, "the CA was reached through the same proxy"


def test_lego_never_follows_a_redirect_to_loopback(tenant_a, pebble, settings):
    # Go's net/http sends nothing for localhost or a loopback address through HTTPS_PROXY: a redirect from
    # the tenant's (allowed) DNS API to http://127.0.0.1 went to the host's own services directly. The
    # certbot child may now open TCP to the proxy's port and DNS ports only (Landlock, confine.py).
    settings.CERTMATE_EGRESS_ALLOW = ["localhost", LOOPBACK_NAME]
    with Listener(http_reply(body=b"[]", headers={"Content-Type": "application/json"})) as inner:
        hop = http_reply("302 Found", headers={"Location": f"http://127.0.0.1:{inner.port}/internal"})
        with Listener(hop) as outer, tenant_context(tenant_a):
            ca = pebble_by_name(pebble)
            dns = dns_account_create(
                actor=TEST_ACTOR,
                name=unique("lego-pdns-"),
                provider="multi",
                credentials={
                    "provider": "pdns",
                    "PDNS_API_URL": f"http://{LOOPBACK_NAME}:{outer.port}",
                    "PDNS_API_KEY": "pdns-key",
                },
                propagation_seconds=1,
            )
            job = certificate_request(
                identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
            )
            job = certificate_issue(job_id=job.pk)
            assert outer.accepted >= 1, job.error
        assert inner.accepted == 0, job.error
    assert job.status == JobStatus.FAILED


def test_a_lego_region_cannot_name_a_host(tenant_a, pebble, settings):
    # lego builds some providers' URLs from the region (https://identity.<region>.conoha.io): a region of
    # "x@127.0.0.1:<port>/" made it connect to this machine's loopback, straight past the egress proxy.
    settings.CERTMATE_EGRESS_ALLOW = ["localhost"]
    with Listener(http_reply(body=b"{}")) as inner, tenant_context(tenant_a):
        ca = pebble_by_name(pebble)
        credentials = {
            "provider": "conoha",
            "CONOHA_REGION": f"x@127.0.0.1:{inner.port}/",
            "CONOHA_TENANT_ID": "tenant",
            "CONOHA_API_USERNAME": "user",
            "CONOHA_API_PASSWORD": "password",
        }
        # Stored as a tenant could before the rule: straight into the table, past every check.
        dns = DnsAccount.objects.create(name=unique("conoha-"), provider="multi", credentials=credentials)
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        job = certificate_issue(job_id=job.pk)
        assert inner.accepted == 0, job.error
    assert job.status == JobStatus.FAILED
    assert "CONOHA_REGION" in job.error, job.error
