"""When a certificate is due, which failures are retried, and how long to wait."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.failures import is_transient, retry_after
from apps.certificates.services.due import renew_at_for
from tests.factories import TEST_ACTOR

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lifetime_days", "threshold_days", "due_after_days"),
    [
        (90, 30, 60),  # the usual: 30 days before expiry
        (31, 30, 15.5),  # short-lived: never before mid-life, so once, not daily
        (7, 30, 3.5),  # threshold longer than the lifetime: mid-life
        (30, 30, 15),  # threshold as long as the lifetime: mid-life
        (365, 0, 365),  # no threshold: at expiry
    ],
)
def test_due_time(lifetime_days, threshold_days, due_after_days):
    due = renew_at_for(not_before=T0, not_after=T0 + timedelta(days=lifetime_days), renew_before_days=threshold_days)
    assert due == T0 + timedelta(days=due_after_days)


@pytest.mark.parametrize(
    "text",
    [
        "JWS has an invalid anti-replay nonce",
        "urn:ietf:params:acme:error:rateLimited :: too many certificates, retry after 2026-01-01 10:00:00 UTC",
        "Connection refused",
        "certbot did not finish within 1800 s and was stopped",
        "DNS problem: NXDOMAIN looking up TXT for _acme-challenge.example.com",
        "Incorrect TXT record found at _acme-challenge.example.com",
        "The service is down for maintenance (503)",
    ],
)
def test_transient_failures(text):
    assert is_transient(text)


@pytest.mark.parametrize(
    "text",
    [
        "urn:ietf:params:acme:error:unauthorized :: account is not authorized",
        "Received response from server: NOTAUTH",
        "tsig verify failure (BADSIG)",
        "CAA record for example.com prevents issuance",
        "urn:ietf:params:acme:error:malformed :: Invalid identifier",
        "externalAccountRequired :: The server requires external account binding",
        "something nobody has seen before",
    ],
)
def test_permanent_failures(text):
    assert not is_transient(text)


def test_rate_limit_retry_after_is_honoured():
    now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    text = "too many new orders recently: retry after 2026-01-01 10:00:00 UTC"
    assert retry_after(text, now=now) == 3600
    assert retry_after("no time given", now=now) is None


@override_settings(CERTMATE_RETRY_BASE_SECONDS=10, CERTMATE_RETRY_MAX_SECONDS=100)
def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    from apps.certificates.services.leases import retry_delay

    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        delays = {retry_delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1, "jitter"


@override_settings(CERTMATE_ORDERS_PER_ACCOUNT=2, CERTMATE_ORDER_WINDOW_SECONDS=3600)
def test_a_ca_account_over_its_order_limit_waits_instead_of_failing(tenant_a):
    from apps.certificates.acme.accounts import ca_account_create
    from apps.certificates.acme.dns_accounts import dns_account_create
    from apps.certificates.models import Job, JobStatus
    from apps.certificates.services import certificate_issue, certificate_request

    credentials = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}
    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="busy", directory="letsencrypt", email="a@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=credentials)
        for name in ("one", "two"):
            job = certificate_request(identifier=f"{name}.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
            Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, started_at=timezone.now())
        waiting = certificate_request(identifier="three.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        result = certificate_issue(job_id=waiting.pk)
        assert result.status == JobStatus.QUEUED and result.attempts == 0
        assert result.queued_at > timezone.now() + timedelta(minutes=59)


def test_a_job_given_up_on_while_running_neither_renews_its_lease_nor_stores(tenant_a):
    from apps.certificates.acme.accounts import ca_account_create
    from apps.certificates.acme.dns_accounts import dns_account_create
    from apps.certificates.models import CertificateVersion, Job, JobStatus
    from apps.certificates.services import certificate_request, issuance
    from apps.certificates.services.leases import JobAbandoned, job_lease_extend

    credentials = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}
    with tenant_context(tenant_a):
        ca = ca_account_create(actor=TEST_ACTOR, name="le", directory="letsencrypt", email="a@alpha.test")
        dns = dns_account_create(actor=TEST_ACTOR, name="bind", provider="rfc2136", credentials=credentials)
        job = certificate_request(identifier="slow.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, lease_expires_at=timezone.now())
        job_lease_extend(job)  # still ours: the lease moves on
        assert Job.objects.get(pk=job.pk).lease_expires_at > timezone.now() + timedelta(minutes=5)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)  # the sweep reaped it
        with pytest.raises(JobAbandoned):
            job_lease_extend(job)
        with pytest.raises(JobAbandoned):
            issuance._store_version(job, job.certificate, facts=None, issued=None)
        assert not CertificateVersion.objects.filter(certificate=job.certificate).exists()


CERTBOT_DNS_NOT_YET = """Certbot failed to authenticate some domains (authenticator: dns-rfc2136). \
The Certificate Authority reported these problems:
  Domain: example.com
  Type:   unauthorized
  Detail: Incorrect TXT record "abc" found at _acme-challenge.example.com

Hint: The Certificate Authority failed to verify the DNS TXT records created by --dns-rfc2136.
"""


def test_dns_not_yet_propagated_is_transient_even_when_the_ca_calls_it_unauthorized():
    assert is_transient(CERTBOT_DNS_NOT_YET)
    assert is_transient(CERTBOT_DNS_NOT_YET.replace('Incorrect TXT record "abc" found at', "No TXT record found at"))
    assert not is_transient(CERTBOT_DNS_NOT_YET.replace("Incorrect TXT record", "CAA record forbids issuance;"))
