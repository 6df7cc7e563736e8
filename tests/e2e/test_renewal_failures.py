"""Due at mid-life, permanent and transient failures: the worker's part, run in this process.

No worker runs in this module, so nothing else claims these jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateEvent, EventKind, Job, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from apps.certificates.services.events import events_process
from certmate.audit.models import AuditEvent
from tests.certificates.event_consumers import label_of, received, subscribed
from tests.e2e.issuance import accounts_for, unique
from tests.e2e.renewals import issue
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


def test_a_31_day_certificate_with_a_30_day_threshold_renews_once_at_mid_life(tenant_a, pebble_factory, bind9):
    month = pebble_factory(validity_seconds=31 * 86400)
    job = issue(tenant_a, month, bind9, in_process=True)
    with tenant_context(tenant_a):
        cert = Certificate.objects.select_related("current_version").get(pk=job.certificate_id)
        v1 = cert.current_version
        assert v1.not_after - v1.not_before >= timedelta(days=30, hours=23)
        assert cert.renew_at == v1.not_before + (v1.not_after - v1.not_before) / 2
        from apps.certificates.services.renewals import renewal_sweep

        assert renewal_sweep(now=cert.renew_at - timedelta(minutes=1), jitter_seconds=0).due == 0
        sweep = renewal_sweep(now=cert.renew_at + timedelta(seconds=1), jitter_seconds=0)
        assert (sweep.due, sweep.queued) == (1, 1)
        renewal = certificate_issue(job_id=Job.objects.get(sweep=sweep).pk)
        assert renewal.status == JobStatus.SUCCEEDED, renewal.error
        cert.refresh_from_db()
        v2 = cert.current_version
        assert cert.renew_at == v2.not_before + (v2.not_after - v2.not_before) / 2
        assert renewal_sweep(now=cert.renew_at - timedelta(minutes=1), jitter_seconds=0).due == 0
        assert cert.versions.count() == 2


def test_a_permanent_failure_is_not_retried(tenant_a, pebble, bind9):
    ca, dns = accounts_for(tenant_a, pebble, bind9, tsig_secret="d3JvbmctdHNpZy1zZWNyZXQtdmFsdWU=")
    with tenant_context(tenant_a), subscribed(kinds=[EventKind.ISSUE_FAILED]) as listener:
        job = certificate_request(
            identifier=f"{unique()}.certmate.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
        done = certificate_issue(job_id=job.pk)
        # Recorded in the failure's own transaction (this test's, never committed), not after it.
        event = CertificateEvent.objects.get(certificate=job.certificate_id)
        # No next_retry: a first issuance that failed for good is not tried again by itself.
        expected = {"reason": done.error, "job": job.pk, "next_retry": None}
        assert (event.kind, event.detail) == ("issue_failed", expected)
        events_process(event_id=event.pk)
        assert received(listener) == [label_of(listener, event)]
    assert done.status == JobStatus.FAILED and done.attempts == 1
    assert not done.error.startswith("attempt")


@override_settings(CERTMATE_RETRY_BASE_SECONDS=30)
def test_a_transient_failure_is_retried_with_backoff_then_succeeds(tenant_a, pebble, bind9):
    from apps.certificates.models import CaAccount

    ca, dns = accounts_for(tenant_a, pebble, bind9)
    with tenant_context(tenant_a):
        real_url = ca.directory_url
        CaAccount.objects.filter(pk=ca.pk).update(directory_url="https://127.0.0.1:9/dir")  # the CA is down
        job = certificate_request(
            identifier=f"{unique()}.certmate.test",
            ca_account=CaAccount.objects.get(pk=ca.pk),
            dns_account=dns,
            actor=TEST_ACTOR,
        )
        first = certificate_issue(job_id=job.pk)
        assert first.status == JobStatus.QUEUED and first.attempts == 1
        assert first.error.startswith("attempt 1 failed, retrying in ")
        assert first.queued_at >= timezone.now() + timedelta(seconds=14)
        CaAccount.objects.filter(pk=ca.pk).update(directory_url=real_url)  # the CA is back
        second = certificate_issue(job_id=job.pk)  # what the delayed task does
        assert second.status == JobStatus.SUCCEEDED and second.attempts == 2, second.error


def test_after_the_last_attempt_the_certificate_fails_keeps_its_version_and_tells_consumers(
    fresh_tenant, pebble, bind9
):
    alpha = fresh_tenant()
    job = issue(alpha, pebble, bind9, in_process=True)
    with subscribed(kinds=[EventKind.RENEWAL_FAILED]) as listener:
        with tenant_context(alpha), override_settings(CERTMATE_RETRY_ATTEMPTS=1):
            cert = Certificate.objects.get(pk=job.certificate_id)
            live = cert.current_version_id
            from apps.certificates.models import CaAccount

            CaAccount.objects.filter(pk=cert.ca_account_id).update(directory_url="https://127.0.0.1:9/dir")
            CaAccount.objects.filter(pk=cert.ca_account_id).update(acme_account=None)
            from apps.certificates.services.requests import certificate_renew

            renewal, _ = certificate_renew(certificate=cert, force=True, actor=TEST_ACTOR)
            done = certificate_issue(job_id=renewal.pk)
            cert.refresh_from_db()
        with tenant_context(alpha):
            # Committed with the failure; delivered by the processing it sent, or else by the sweep.
            [event] = CertificateEvent.objects.filter(certificate=cert, kind=EventKind.RENEWAL_FAILED)
            # next_retry: when the renewal is tried again (the certificate's renew_at), for notifications
            assert event.detail == {"reason": done.error, "job": renewal.pk, "next_retry": cert.renew_at.isoformat()}
            events_process()
            events_process()
            assert received(listener) == [label_of(listener, event)]
            [audit] = AuditEvent.objects.filter(action="certificate.renewal_failed", object_id=str(cert.pk))
            assert (audit.channel, audit.actor_name, audit.changes["status"]) == (
                "system",
                "worker",
                ["active", "failed"],
            )
    assert done.status == JobStatus.FAILED
    assert cert.status == "failed" and cert.last_error == done.error
    assert cert.current_version_id == live
    # Not ordered again every hour: the next try waits a day (then two, four, up to a week).
    assert cert.renew_at > timezone.now() + timedelta(hours=23)
    from apps.certificates.services.renewals import renewal_sweep

    with tenant_context(alpha):
        assert renewal_sweep(jitter_seconds=0).due == 0
