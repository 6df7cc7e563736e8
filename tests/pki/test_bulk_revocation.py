"""Bulk revocation: every certificate of a subject, of a profile or signed before a date, revoked by one
job with a result per version — and one CRL at its end, not one per certificate. An interrupted job
carries on where it stopped; bad selectors are refused before anything is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import BulkRevocation, Certificate, CertificateVersion, RevocationList
from apps.certificates.pki import bulk_revocation
from apps.certificates.pki.bulk_revocation import bulk_revocation_run, bulk_revoke_preview, bulk_revoke_submit
from apps.certificates.pki.crl import crl_current
from apps.certificates.pki.renewal import private_certificate_renew_now
from apps.certificates.pki.revoking import private_version_revoke
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.pki.revocation_support import crl_entries, crl_text, issue, verify

pytestmark = pytest.mark.django_db


def _run(bulk: BulkRevocation) -> BulkRevocation:
    bulk_revocation_run(bulk_id=bulk.pk)
    return BulkRevocation.objects.get(pk=bulk.pk)


def test_every_version_of_a_subject_is_revoked_with_one_crl(tenant_a, hierarchy_a, tmp_path):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        laptop, phone = issue("bob-laptop", common_name="Bob"), issue("bob-phone", common_name="bob")
        renewed = private_certificate_renew_now(certificate=Certificate.objects.get(pk=laptop.certificate_id),
                                                actor=TEST_ACTOR)  # fmt: skip
        alice = issue("alice-laptop", common_name="Alice")
        held = issue("bob-tablet", common_name="Bob")
        private_version_revoke(version=held, reason="certificatehold", actor=TEST_ACTOR)
        crls_before = RevocationList.objects.filter(authority=alpha).count()
        selector = {"subject": "BOB"}
        assert bulk_revoke_preview(authority=alpha, selector=selector, reason="keycompromise") == 4
        bulk = bulk_revoke_submit(authority=alpha, selector=selector, reason="keycompromise", actor=TEST_ACTOR)
        assert (bulk.status, bulk.total, bulk.done) == ("queued", 4, 0)
        bulk = _run(bulk)
        crls_signed = RevocationList.objects.filter(authority=alpha).count() - crls_before
        entries = crl_entries(crl_text(alpha, tmp_path))
        said = verify(tmp_path, phone.certificate_pem, root=root, intermediate=alpha, crls=[alpha])
        alice.refresh_from_db()
        finished = AuditEvent.objects.get(action="bulk_revocation.finished")
    assert (bulk.status, bulk.total, bulk.done, bulk.revoked, bulk.failed) == ("succeeded", 4, 4, 4, 0)
    bob = [laptop, renewed, phone, held]
    assert {result["serial"] for result in bulk.results} == {version.serial for version in bob}
    assert all(result["status"] == "revoked" for result in bulk.results)
    assert crls_signed == 1  # one CRL at the end, not one per certificate
    for version in bob:  # the held one made final; the renewed one's earlier version too
        assert "Key Compromise" in entries[int(version.serial, 16)]
    assert int(alice.serial, 16) not in entries and alice.revoked_at is None
    assert "certificate revoked" in said
    assert finished.changes == {"status": "succeeded", "revoked": 4, "failed": 0, "skipped": 0}
    assert bulk.requested_by_name == TEST_ACTOR.name


def test_profile_and_signing_date_combine(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        old_both = issue("old-both", profile="server-and-client")
        old_client = issue("old-client")
        CertificateVersion.objects.filter(pk__in=[old_both.pk, old_client.pk]).update(
            created_at=timezone.now() - timedelta(days=10)
        )
        new_both = issue("new-both", profile="server-and-client")
        selector = {"profile": "server-and-client", "issued_before": (timezone.now() - timedelta(days=1)).date()}
        bulk = _run(bulk_revoke_submit(authority=alpha, selector=selector, reason="superseded", actor=TEST_ACTOR))
        revoked = set(CertificateVersion.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert (bulk.revoked, revoked) == (1, {old_both.pk})
    assert new_both.pk not in revoked and old_client.pk not in revoked


def test_an_interrupted_job_carries_on_and_signs_one_crl(tenant_a, hierarchy_a, monkeypatch):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        versions = [issue(f"dev-{n}", common_name="device") for n in range(5)]
        invalid_from = min(version.not_before for version in versions) - timedelta(days=1)
        bulk = bulk_revoke_submit(authority=alpha, selector={"subject": "device"}, reason="keycompromise",
                                  actor=TEST_ACTOR, invalidity_date=invalid_from)  # fmt: skip
        monkeypatch.setattr(bulk_revocation, "CHUNK_VERSIONS", 2)
        real, calls = bulk_revocation.private_version_revoke, []

        def dies_on_the_fourth(**kwargs):
            calls.append(kwargs["version"].pk)
            if len(calls) == 4:
                raise RuntimeError("worker lost")
            return real(**kwargs)

        monkeypatch.setattr(bulk_revocation, "private_version_revoke", dies_on_the_fourth)
        with pytest.raises(RuntimeError):
            bulk_revocation_run(bulk_id=bulk.pk)
        stopped = BulkRevocation.objects.get(pk=bulk.pk)
        assert (stopped.status, stopped.done, stopped.finished_at) == ("running", 2, None)  # the first chunk kept
        assert crl_current(alpha) is None  # no CRL per chunk
        monkeypatch.setattr(bulk_revocation, "private_version_revoke", real)
        bulk = _run(bulk)
        assert _run(bulk).done == 5  # finished: a further run changes nothing
        revoked = list(CertificateVersion.objects.filter(pk__in=[v.pk for v in versions]).order_by("pk"))
        assert crl_current(alpha).number == 1 and crl_current(alpha).entries == 5
    assert (bulk.status, bulk.done, bulk.revoked) == ("succeeded", 5, 5)
    assert [result["id"] for result in bulk.results] == sorted(version.pk for version in versions)
    # The invalidity date is never before a certificate's own notBefore.
    assert all(version.invalidity_date == version.not_before for version in revoked)


def test_what_was_revoked_or_expired_before_is_not_matched(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        gone, expired, live = (issue(name, common_name="x") for name in ("gone", "expired", "live"))
        private_version_revoke(version=gone, reason="superseded", actor=TEST_ACTOR)
        CertificateVersion.objects.filter(pk=expired.pk).update(not_after=timezone.now() - timedelta(days=1))
        bulk = _run(bulk_revoke_submit(authority=alpha, selector={"subject": "x"}, reason="cessationofoperation",
                                       actor=TEST_ACTOR))  # fmt: skip
        assert CertificateVersion.objects.get(pk=gone.pk).revocation_reason == "superseded"
    assert [result["serial"] for result in bulk.results] == [live.serial]


def test_nothing_matched_is_a_finished_job_without_a_crl(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        bulk = _run(bulk_revoke_submit(authority=alpha, selector={"subject": "nobody"}, reason="unspecified",
                                       actor=TEST_ACTOR))  # fmt: skip
        assert crl_current(alpha) is None
    assert (bulk.status, bulk.total, bulk.done, bulk.results) == ("succeeded", 0, 0, [])


@pytest.mark.parametrize(
    "selector, reason, field",
    [
        ({}, "superseded", "selector"),
        ({"subject": ""}, "superseded", "selector"),
        ({"common_name": "x"}, "superseded", "selector"),
        ("subject=x", "superseded", "selector"),
        ({"subject": "x" * 300}, "superseded", "subject"),
        ({"subject": "a\x00b"}, "superseded", "subject"),
        ({"subject": ["x"]}, "superseded", "subject"),
        ({"profile": "nope"}, "superseded", "profile"),
        ({"profile": 5}, "superseded", "profile"),
        ({"issued_before": "yesterday"}, "superseded", "issued_before"),
        ({"issued_before": "0001-01-01"}, "superseded", "issued_before"),
        ({"issued_before": 20240101}, "superseded", "issued_before"),
        ({"subject": "x"}, "cacompromise", "reason"),
        ({"subject": "x"}, None, "reason"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_recorded(tenant_a, hierarchy_a, selector, reason, field):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as refused:
            bulk_revoke_submit(authority=alpha, selector=selector, reason=reason, actor=TEST_ACTOR)
        assert field in refused.value.error_dict
        assert not BulkRevocation.objects.exists()


def test_an_invalidity_date_in_the_future_is_refused(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        bulk_revoke_submit(authority=alpha, selector={"subject": "x"}, reason="keycompromise", actor=TEST_ACTOR,
                           invalidity_date=timezone.now() + timedelta(days=2))  # fmt: skip
    assert "invalidity_date" in refused.value.error_dict


def test_a_tenant_revokes_only_its_own(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with tenant_context(tenant_a):
        mine = issue("carol", common_name="Carol")
    with tenant_context(tenant_b):
        theirs = issue("carol", ca="beta", common_name="Carol")
        beta = theirs.authority
        bulk = _run(bulk_revoke_submit(authority=beta, selector={"subject": "carol"}, reason="superseded",
                                       actor=TEST_ACTOR))  # fmt: skip
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=mine.pk).revoked_at is None
    assert [result["serial"] for result in bulk.results] == [theirs.serial]
