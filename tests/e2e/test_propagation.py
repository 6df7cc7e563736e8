"""Active DNS propagation checks through the real path: certbot against Pebble, the records written into
BIND9 by the rfc2136 plugin, the zone's nameservers found from its NS records and asked until each
shows the records, instead of the account's 60-second wait."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.certificates.models import JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.e2e.issuance import accounts_for, unique
from tests.e2e.servers import Bind9, Pebble, free_port
from tests.factories import TEST_ACTOR
from tests.tools import missing_tool

pytestmark = pytest.mark.tools

ZONE = "propagation.test"
NS2 = "127.0.0.2"
# The zone's NS records name ns1 (127.0.0.1, the primary) and ns2 (127.0.0.2).
RECORDS = ["@ IN NS ns2", f"ns2 IN A {NS2}"]


@pytest.fixture(scope="module")
def primary() -> Iterator[Bind9]:
    reason = Bind9.missing_reason()
    if reason:
        missing_tool(reason)
    with Bind9(zones=[ZONE], extra_records=RECORDS) as server:
        yield server


@pytest.fixture(scope="module")
def zone_pebble(primary, pebble_factory) -> Pebble:
    return pebble_factory(dns_port=primary.port, nonce_reject_percent=0)


def found_through(primary: Bind9):
    """The zone's nameservers found from its NS records, through the primary as the resolver."""
    return override_settings(
        CERTMATE_DNS_RESOLVERS=[f"{primary.host}:{primary.port}"],
        CERTMATE_DNS_QUERY_PORT=primary.port,
        CERTMATE_RETRY_ATTEMPTS=1,
    )


def issue(tenant, pebble: Pebble, primary: Bind9, *, name: str = "", **dns_options):
    ca, dns = accounts_for(tenant, pebble, primary, check_nameservers=[], **dns_options)
    with tenant_context(tenant):
        job = certificate_request(
            identifier=name or f"{unique()}.{ZONE}", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        start = time.monotonic()
        job = certificate_issue(job_id=job.pk)
    return job, time.monotonic() - start


def test_the_order_goes_on_once_the_zones_nameservers_show_the_records(tenant_a, zone_pebble, primary):
    with found_through(primary):
        job, seconds = issue(tenant_a, zone_pebble, primary, propagation_seconds=60)
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-3000:]}"
    assert seconds < 20, f"the order took {seconds:.1f} s: it waited instead of checking\n{job.output}"
    assert f"ns1.{ZONE} (127.0.0.1, port {primary.port})" in job.output  # found from the NS records
    assert "every nameserver shows the records" in job.output
    # ns2 is in the NS records but nothing answers there: like the CA's resolver, the check moves on.
    assert f"not waiting for nameserver ns2.{ZONE} ({NS2}, port {primary.port})" in job.output


def test_a_stale_secondary_makes_the_check_wait_then_fail_with_its_name(tenant_a, zone_pebble, primary):
    stale = Bind9(zones=[ZONE], address=NS2, port=primary.port, extra_records=RECORDS, static=True)
    with stale, found_through(primary):
        job, seconds = issue(tenant_a, zone_pebble, primary, propagation_seconds=4)
    assert job.status == JobStatus.FAILED
    assert 4 <= seconds < 30
    assert "DNS records not propagated within 4 s" in job.error
    assert f"ns2.{ZONE} ({NS2}, port {primary.port}) answered without TXT _acme-challenge." in job.error
    assert "fix its zone transfers, or set DNS account rfc2136:" in job.error, job.error
    assert "to a fixed wait" in job.error, job.error
    assert "check its zone transfers (and NOTIFY) from the primary" in job.output
    assert f"ns1.{ZONE}" not in job.error  # the primary showed them


@pytest.mark.parametrize("launch", ["fork", "spawn"])
def test_a_wildcard_and_its_apex_wait_for_both_values(tenant_a, zone_pebble, primary, launch):
    name = f"{unique()}.{ZONE}"
    ca, dns = accounts_for(tenant_a, zone_pebble, primary, propagation_seconds=60)
    with tenant_context(tenant_a), override_settings(CERTMATE_CERTBOT_LAUNCH=launch):
        job = certificate_request(
            identifier=name, san_domains=[f"*.{name}"], ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        start = time.monotonic()
        job = certificate_issue(job_id=job.pk)
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-3000:]}"
    assert time.monotonic() - start < 20
    assert "for 1 TXT record(s)" in job.output  # one name, two values
    assert "every nameserver shows the records" in job.output


def test_nameservers_on_a_private_network_are_refused_before_certbot_runs(tenant_a, zone_pebble):
    # Another zone, whose NS records name a nameserver at a private address.
    other = Bind9(zones=["refused.test"], extra_records=["@ IN NS ns3", "ns3 IN A 10.20.30.40"])
    with other, found_through(other):
        job, _ = issue(tenant_a, zone_pebble, other, name=f"{unique()}.refused.test")
    assert job.status == JobStatus.FAILED
    assert "the propagation check would ask nameserver ns3.refused.test: 10.20.30.40 is a private" in job.error
    assert "set the account's check nameservers to ones that may be asked" in job.error
    assert "certbot" not in job.output.lower()  # refused before it ran


def test_no_resolver_answer_keeps_the_fixed_wait_and_says_so(tenant_a, zone_pebble, primary):
    with found_through(primary), override_settings(CERTMATE_DNS_RESOLVERS=[f"127.0.0.1:{free_port()}"]):
        job, _ = issue(tenant_a, zone_pebble, primary, propagation_seconds=1)
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-3000:]}"
    assert "could not be found" in job.output and "waiting the propagation time instead" in job.output
