"""E-mail notices through a real worker and a real SMTP server (aiosmtpd) on loopback, for a certificate
Pebble issued with a 120-second validity: its issuance, its expiry warning (the sweep at the real time
finds it inside the tenant's last threshold) and a renewal that fails for real (the DNS account's TSIG
key no longer matches BIND9's, so certbot's update is refused)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.dns_accounts import dns_account_update
from apps.certificates.models import Certificate, JobStatus
from apps.certificates.services.certificates import certificate_auto_renew_set
from apps.certificates.services.renewals import renewal_sweep_all
from apps.certificates.services.requests import certificate_renew
from tests.e2e.issuance import rfc2136_credentials, wait_for_job
from tests.e2e.notifications import email_channel, mails_of, names_time, until
from tests.e2e.renewals import issue
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.tools, pytest.mark.worker]

ROTATED_AWAY = "cm90YXRlZC1hd2F5LXRzaWcta2V5LXNlY3JldA=="  # base64 of a key BIND9 does not know


def test_issued_expiring_and_failed_renewal_arrive_by_mail(
    fresh_tenant, notify_worker, smtp_receiver, pebble_factory, bind9
):
    # Without reuse of valid authorizations (Pebble reuses half of them), the renewal must pass DNS-01 again.
    short = pebble_factory(validity_seconds=120, extra_env={"PEBBLE_AUTHZREUSE": "0"})
    alpha = fresh_tenant()
    ops = f"ops@{alpha.schema_name}.test"
    email_channel(alpha, ops)

    done = wait_for_job(alpha, issue(alpha, short, bind9, auto_renew=False).pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    with tenant_context(alpha):
        cert = Certificate.objects.select_related("current_version", "dns_account").get(pk=done.certificate_id)
    name = cert.identifier
    [issued] = until(lambda: mails_of(smtp_receiver, ops, "issued"), "no issued mail", worker=notify_worker)
    assert name in issued.subject and issued.rcpt_tos == [ops]

    # The sweep at the real time: 120 seconds is inside every threshold; it warns once, naming the expiry.
    for _ in range(2):
        renewal_sweep_all(slugs=[alpha.schema_name], jitter_seconds=0)
    [warning] = until(lambda: mails_of(smtp_receiver, ops, "expiring"), "no expiry warning", worker=notify_worker)
    assert name in warning.subject and "expires" in warning.subject
    assert names_time(warning.text, cert.current_version.not_after)

    # Auto-renewal back on; BIND9's key was rotated and the DNS account still holds the old one, so
    # certbot's update is refused: the renewal fails for good, to be tried again later.
    with tenant_context(alpha):
        certificate_auto_renew_set(certificate=cert, enabled=True, actor=TEST_ACTOR)
        dns_account_update(
            account=cert.dns_account, actor=TEST_ACTOR, credentials=rfc2136_credentials(bind9, secret=ROTATED_AWAY)
        )
        renewal, _ = certificate_renew(certificate=cert, force=True, actor=TEST_ACTOR)
    failed = wait_for_job(alpha, renewal.pk)
    assert failed.status == JobStatus.FAILED, "a key BIND9 refuses cannot renew"
    with tenant_context(alpha):
        cert.refresh_from_db()
    [mail] = until(
        lambda: mails_of(smtp_receiver, ops, "renewal_failed"), "no failed-renewal mail", worker=notify_worker
    )
    assert name in mail.subject and "Renewal failed" in mail.subject
    assert cert.last_error and cert.last_error in mail.text, "the mail gives the reason"
    assert names_time(mail.text, cert.renew_at), "and when it is tried again"
    assert len(smtp_receiver.to(ops)) == 3, [m.subject for m in smtp_receiver.to(ops)]
