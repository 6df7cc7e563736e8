"""The ARI refresh and directory reading against a local ACME directory: what a CA's window does to a
certificate's renewal date, and what happens when the CA answers badly or may not be reached."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.ari import cert_id
from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.acme.directory import DirectoryError, ca_account_directory_read
from apps.certificates.models import Certificate, CertificateStatus
from apps.certificates.services.due import renew_at_for
from certmate.audit.models import AuditEvent
from tests.certificates.ari_support import PROFILES, stub_account, stub_certificate, stub_fixture  # noqa: F401
from tests.factories import TEST_ACTOR, version_add

INTERVAL = timedelta(hours=6)  # CERTMATE_ARI_INTERVAL_SECONDS's default


def threshold_date(certificate: Certificate, days: int = 30):
    version = certificate.current_version
    return renew_at_for(not_before=version.not_before, not_after=version.not_after, renew_before_days=days)


def test_a_window_that_began_makes_the_certificate_due_now_once_per_interval(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        certificate_id = cert_id(certificate.current_version.certificate_pem)
        now = timezone.now()
        stub.windows[certificate_id] = (now - timedelta(hours=1), now + timedelta(hours=5))
        summary = certificates_ari_refresh(now=now)
        assert (summary.asked, summary.moved, summary.failed) == (1, 1, 0)
        certificate.refresh_from_db()
        assert certificate.renew_at == now and certificate.ari_checked_at == now
        assert certificate.ari_next_check == now + INTERVAL
        event = AuditEvent.objects.get(action="certificate.renewal_window", object_id=str(certificate.pk))
        assert set(event.changes) == {"window", "renew_at"} and event.changes["window"][0] is None
        # Asked again at once: not due yet. After the interval, the same window is no new event.
        assert certificates_ari_refresh(now=now + timedelta(minutes=1)).asked == 0
        assert certificates_ari_refresh(now=now + INTERVAL).asked == 1
        assert AuditEvent.objects.filter(action="certificate.renewal_window").count() == 1
        assert stub.asked == [certificate_id, certificate_id]


def test_the_directory_is_read_once_and_audited(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        account = certificate.ca_account
        assert account.directory_read_at is None
        certificates_ari_refresh()
        account.refresh_from_db()
        assert account.renewal_info_url == stub.renewal_info_url and account.profiles == PROFILES
        event = AuditEvent.objects.get(action="ca_account.directory_read", object_id=str(account.pk))
        assert event.changes["renewal_info_url"] == ["", stub.renewal_info_url]


def test_retry_after_asks_later_but_never_sooner_than_the_interval(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        now = timezone.now()
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (now + timedelta(days=9),
                                                                              now + timedelta(days=10))  # fmt: skip
        stub.retry_after = "43200"
        certificates_ari_refresh(now=now)
        certificate.refresh_from_db()
        assert certificate.ari_next_check == now + timedelta(hours=12)
        stub.retry_after = "60"
        certificates_ari_refresh(now=now + timedelta(hours=12))
        certificate.refresh_from_db()
        assert certificate.ari_next_check == now + timedelta(hours=12) + INTERVAL


def test_a_window_beyond_the_threshold_never_delays_the_renewal(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        due = certificate.renew_at
        assert due == threshold_date(certificate)
        version = certificate.current_version
        stub.windows[cert_id(version.certificate_pem)] = (version.not_after - timedelta(days=2), version.not_after)
        certificates_ari_refresh()
        certificate.refresh_from_db()
        assert certificate.renew_at == due and certificate.ari_window_end == version.not_after


def test_a_failed_certificate_keeps_the_retry_date_its_failures_set(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        retry = timezone.now() + timedelta(days=1)
        Certificate.objects.filter(pk=certificate.pk).update(status=CertificateStatus.FAILED, renew_at=retry)
        now = timezone.now()
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (now - timedelta(days=1), now)
        certificates_ari_refresh(now=now)
        certificate.refresh_from_db()
        assert certificate.renew_at == retry and certificate.ari_window_end == now


def test_a_new_version_forgets_the_window(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        now = timezone.now()
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (now - timedelta(days=1), now)
        certificates_ari_refresh(now=now)
        version_add(certificate)
        certificate.refresh_from_db()
        assert certificate.ari_window_start is certificate.ari_window_end is certificate.ari_next_check is None
        assert certificate.renew_at == threshold_date(certificate)
        assert certificates_ari_refresh().asked == 1, "the new version's window is asked for at the next run"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((404, b"{}", {}), "HTTP 404"),
        ((500, b"<html>oops</html>", {}), "HTTP 500"),
        ((200, b"<html>oops</html>", {}), "not JSON"),
        ((200, json.dumps({"suggestedWindow": {"start": "x", "end": "y"}}).encode(), {}), "RFC 3339"),
        ((200, b"{" + b" " * 20_000 + b"}", {}), "larger than 16 KiB"),
    ],
)
def test_a_bad_answer_leaves_the_threshold_rule_and_says_why(tenant_a, stub, caplog, answer, reason):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        due = certificate.renew_at
        stub.answers[f"/renewal-info/{cert_id(certificate.current_version.certificate_pem)}"] = answer
        summary = certificates_ari_refresh()
        certificate.refresh_from_db()
    assert (summary.asked, summary.failed) == (1, 1)
    assert certificate.renew_at == due and certificate.ari_window_start is None
    assert certificate.ari_next_check is not None, "asked again after the interval, not at every run"
    assert reason in caplog.text and "www.alpha.test" in caplog.text and "oops" not in caplog.text


def test_the_egress_rule_guards_the_directory_and_the_window(tenant_a, stub, settings, caplog):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        ca_account_directory_read(account=certificate.ca_account, actor=TEST_ACTOR)
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (timezone.now(), timezone.now())
        settings.CERTMATE_EGRESS_ALLOW = []
        with pytest.raises(DirectoryError) as refused:
            ca_account_directory_read(account=certificate.ca_account, actor=TEST_ACTOR)
        assert refused.value.code == "egress_refused" and "CERTMATE_EGRESS_ALLOW" in refused.value.message
        summary = certificates_ari_refresh()
    assert (summary.asked, summary.failed) == (1, 1) and stub.asked == []
    assert "CERTMATE_EGRESS_ALLOW" in caplog.text


def test_a_directory_that_cannot_be_read_keeps_the_last_reading(tenant_a, stub):
    with tenant_context(tenant_a):
        account = stub_account(stub)
        ca_account_directory_read(account=account, actor=TEST_ACTOR)
        stub.answers["/dir"] = (503, b"down for maintenance", {})
        with pytest.raises(DirectoryError) as failed:
            ca_account_directory_read(account=account, actor=TEST_ACTOR)
        assert failed.value.code == "ca_unreachable" and "HTTP 503" in failed.value.message
        assert "maintenance" not in failed.value.message
        account.refresh_from_db()
        assert account.profiles == PROFILES and account.renewal_info_url == stub.renewal_info_url
        account.trust_bundle = ""
        with pytest.raises(DirectoryError, match=r"SSL verification failed .*trust bundle"):
            ca_account_directory_read(account=account, actor=TEST_ACTOR)


def test_the_command_refreshes_the_tenants_named(tenant_a, stub):
    with tenant_context(tenant_a):
        certificate = stub_certificate(stub)
        now = timezone.now()
        stub.windows[cert_id(certificate.current_version.certificate_pem)] = (now - timedelta(days=1), now)
    out = StringIO()
    call_command("renewals", "ari-refresh", "--tenant", tenant_a.schema_name, stdout=out)
    assert out.getvalue() == f"{tenant_a.schema_name}: 1 asked, 1 moved, 0 failed\n"
    with pytest.raises(CommandError, match="no active tenant with slug nosuch"):
        call_command("renewals", "ari-refresh", "--tenant", "nosuch")


def test_one_certificates_surprise_never_costs_the_others_their_window(tenant_a, stub, monkeypatch, caplog):
    from apps.certificates.acme import ari_refresh

    with tenant_context(tenant_a):
        broken, fine = stub_certificate(stub, "broken.alpha.test"), stub_certificate(stub, "fine.alpha.test")
        now = timezone.now()
        stub.windows[cert_id(fine.current_version.certificate_pem)] = (
            now - timedelta(hours=1),
            now + timedelta(hours=5),
        )
        asking = ari_refresh.renewal_window_get
        broken_id = cert_id(broken.current_version.certificate_pem)

        def window_get(*, certificate_id, **kwargs):
            if certificate_id == broken_id:
                raise RuntimeError("a bug nobody foresaw")
            return asking(certificate_id=certificate_id, **kwargs)

        monkeypatch.setattr(ari_refresh, "renewal_window_get", window_get)
        summary = certificates_ari_refresh(now=now)
        fine.refresh_from_db()
    assert (summary.asked, summary.moved, summary.failed) == (2, 1, 1)
    assert fine.renew_at == now, "the certificate after the broken one still got its window"
    assert "broken.alpha.test" in caplog.text


def test_a_version_a_fallback_ca_issued_is_asked_about_at_that_ca(tenant_a, stub):
    from apps.certificates.models import CertificateVersion
    from tests.factories import accounts

    with tenant_context(tenant_a):
        certificate = stub_certificate(stub, "fell.alpha.test")
        fallback = certificate.ca_account
        own, _ = accounts()  # the certificate's own CA account: no ARI
        Certificate.objects.filter(pk=certificate.pk).update(ca_account=own)
        CertificateVersion.objects.filter(pk=certificate.current_version_id).update(ca_account=fallback)
        now = timezone.now()
        certificate_id = cert_id(certificate.current_version.certificate_pem)
        stub.windows[certificate_id] = (now - timedelta(hours=1), now + timedelta(hours=5))
        summary = certificates_ari_refresh(now=now)
        certificate.refresh_from_db()
    assert (summary.asked, summary.moved) == (1, 1)
    assert stub.asked == [certificate_id] and certificate.renew_at == now
