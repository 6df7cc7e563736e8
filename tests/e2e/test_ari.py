"""ARI (RFC 9773) and ACME profiles through the real path: certbot against Pebble, behind a small ACME
directory (acme_stub.py) that adds renewalInfo and profiles and records each newOrder's payload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.ari import cert_id
from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.acme.directory import ca_account_directory_read
from apps.certificates.models import Certificate, Job, JobOperation, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from apps.certificates.services.due import certificates_schedule_refresh
from apps.certificates.services.renewals import renewal_sweep
from apps.certificates.services.requests import certificate_renew
from tests.e2e.acme_stub import AcmeStub
from tests.e2e.issuance import accounts_for, unique
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools

PROFILES = {"classic": "the usual 90 days", "shortlived": "six days"}
ARI_INTERVAL = timedelta(hours=6)  # CERTMATE_ARI_INTERVAL_SECONDS's default: when the next refresh asks again


@pytest.fixture
def stub(pebble) -> Iterator[AcmeStub]:
    with AcmeStub(upstream=pebble, profiles=PROFILES) as server:
        yield server


def issue(tenant, ca_server, bind9, **options) -> Certificate:
    """A certificate ordered and issued in this process; its CA account at ``ca_server`` (Pebble or the stub)."""
    ca, dns = accounts_for(tenant, ca_server, bind9)
    with tenant_context(tenant):
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR, **options
        )
        done = certificate_issue(job_id=job.pk)
        assert done.status == JobStatus.SUCCEEDED, f"{done.error}\n{done.output[-2000:]}"
        return Certificate.objects.select_related("current_version", "ca_account").get(pk=job.certificate_id)


def renew_due(tenant, *, now) -> list[Job]:
    """What the renewal sweep queues at ``now``, each job run here."""
    with tenant_context(tenant):
        sweep = renewal_sweep(now=now, jitter_seconds=0)
        jobs = list(Job.objects.filter(sweep=sweep))
        return [certificate_issue(job_id=job.pk) for job in jobs]


def test_a_window_moved_into_the_past_renews_at_once_and_the_order_names_what_it_replaces(tenant_a, stub, bind9):
    certificate = issue(tenant_a, stub, bind9)
    with tenant_context(tenant_a):
        account = certificate.ca_account
        # The first order read the directory: its ARI URL and profiles are the account's now.
        assert account.renewal_info_url == stub.renewal_info_url and account.profiles == PROFILES
        threshold_date, old = certificate.renew_at, certificate.current_version
        old_id = cert_id(old.certificate_pem)

        # A window in the future, before the threshold date: renewal moves into it, and nothing is due yet.
        now = timezone.now()
        stub.windows[old_id] = (now + timedelta(days=1), now + timedelta(days=2))
        assert certificates_ari_refresh(now=now).asked == 1 and stub.asked == [old_id]
        certificate.refresh_from_db()
        assert now + timedelta(days=1) <= certificate.renew_at <= now + timedelta(days=2) < threshold_date
        planned = certificate.renew_at
        certificates_schedule_refresh(certificates=Certificate.objects.filter(pk=certificate.pk))
        certificate.refresh_from_db()
        assert certificate.renew_at == planned, "a schedule refresh keeps the point chosen in the window"
        assert renew_due(tenant_a, now=now) == []

        # The CA moves the window into the past (how it announces a mass revocation): due at the next refresh.
        later = now + ARI_INTERVAL + timedelta(seconds=1)
        stub.windows[old_id] = (now - timedelta(days=2), now - timedelta(days=1))
        assert certificates_ari_refresh(now=later).asked == 1
        certificate.refresh_from_db()
        assert certificate.renew_at == later and certificate.ari_window_end == now - timedelta(days=1)

        (job,) = renew_due(tenant_a, now=later)
        assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-2000:]}"
        assert job.operation == JobOperation.RENEW and job.replaces == old_id
        assert stub.orders[-1]["replaces"] == old_id, "the newOrder named the certificate it replaces"
        assert "replaces" not in stub.orders[0], "a first issuance replaces nothing"
        certificate.refresh_from_db()
        assert certificate.current_version.number == 2
        # The window was the old version's: the new one starts from the threshold rule until the CA is asked.
        assert certificate.ari_window_start is None and certificate.ari_next_check is None
        assert certificate.renew_at > timezone.now() + timedelta(days=300)


def test_a_chosen_profile_reaches_the_order_and_an_unknown_one_is_refused(tenant_a, stub, bind9):
    ca, dns = accounts_for(tenant_a, stub, bind9)
    with tenant_context(tenant_a):
        ca_account_directory_read(account=ca, actor=TEST_ACTOR)
        ca.refresh_from_db()
        name = f"{unique()}.certmate.test"
        with pytest.raises(ValidationError) as refused:
            certificate_request(identifier=name, ca_account=ca, dns_account=dns, acme_profile="tlsclient",
                                actor=TEST_ACTOR)  # fmt: skip
        assert refused.value.message_dict["acme_profile"] == [
            f"CA account {ca.name!r} offers no profile 'tlsclient' (its directory lists: classic, shortlived)"
        ]
        job = certificate_request(identifier=name, ca_account=ca, dns_account=dns, acme_profile="shortlived",
                                  actor=TEST_ACTOR)  # fmt: skip
        done = certificate_issue(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert stub.orders[-1]["profile"] == "shortlived"


def test_a_ca_without_ari_keeps_the_threshold_rule(tenant_a, pebble, bind9):
    certificate = issue(tenant_a, pebble, bind9)
    with tenant_context(tenant_a):
        account = certificate.ca_account
        assert account.directory_read_at is not None and account.renewal_info_url == "" and account.profiles == {}
        threshold_date = certificate.renew_at
        assert certificates_ari_refresh().asked == 0
        certificate.refresh_from_db()
        assert certificate.renew_at == threshold_date and certificate.ari_checked_at is None
        job, _ = certificate_renew(certificate=certificate, force=True, actor=TEST_ACTOR)
        done = certificate_issue(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.replaces == ""


def test_replaces_reaches_the_order_when_certbot_is_spawned(tenant_a, stub, bind9, settings):
    settings.CERTMATE_CERTBOT_LAUNCH = "spawn"  # confine.py's own start loads the order hook too
    certificate = issue(tenant_a, stub, bind9)
    with tenant_context(tenant_a):
        job, _ = certificate_renew(certificate=certificate, force=True, actor=TEST_ACTOR)
        done = certificate_issue(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert stub.orders[-1]["replaces"] == done.replaces == cert_id(certificate.current_version.certificate_pem)
