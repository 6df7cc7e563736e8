"""The dashboard: its numbers with a mix of certificates, the expiring list coloured AND worded, recent
jobs that keep polling only while one is open, storage problems and CA expiry warnings, and a bounded
number of queries however many certificates the tenant has."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import (
    Certificate,
    CertificateAuthority,
    CertificateStatus,
    CertificateVersion,
    Job,
    JobOperation,
    JobStatus,
)
from apps.certificates.pki.services import ca_hierarchy_create
from apps.portal.templatetags.portal import expiry_of
from apps.storage.models import Publication, PublicationState
from apps.storage.services.config import storage_config_active
from tests.factories import TEST_ACTOR, certificate_make, version_add

_serial = itertools.count(1)


def certificate_ending_in(identifier: str, days: float, **fields) -> Certificate:
    """A served certificate whose current version ends ``days`` from now (negative: ended)."""
    certificate = certificate_make(identifier, versions=0, **fields)
    start = timezone.now() - timedelta(days=100)
    version_add(certificate, not_before=start, days=100 + days)
    return certificate


@pytest.fixture
def mix(tenant_a):
    """Alpha's certificates: 3 fine, 3 expiring (3, 15 and 25 days), 1 expired, 2 failed, 1 pending,
    1 revoked; the tenant's threshold is 30 days."""
    with tenant_context(tenant_a):
        for n in range(3):
            certificate_ending_in(f"fine{n}.example.com", 80)
        for days in (3, 15, 25):
            certificate_ending_in(f"in{days}.example.com", days + 0.5)
        certificate_ending_in("gone.example.com", -5.5)
        certificate_make("broken1.example.com", versions=0, status=CertificateStatus.FAILED)
        failed = certificate_ending_in("broken2.example.com", 60)
        Certificate.objects.filter(pk=failed.pk).update(status=CertificateStatus.FAILED)
        pending = certificate_make("waiting.example.com", versions=0)
        Job.objects.create(certificate=pending, operation=JobOperation.ISSUE, status=JobStatus.QUEUED)
        revoked = certificate_ending_in("revoked.example.com", 10)
        CertificateVersion.objects.filter(pk=revoked.current_version_id).update(
            revoked_at=timezone.now(), revocation_reason="keycompromise"
        )
    return tenant_a


def test_the_numbers_add_up(mix, signed_in):
    response = signed_in(mix, "viewer").get("/")
    counts = response.context["counts"]
    assert (counts.total, counts.active, counts.expiring, counts.expired) == (11, 7, 3, 1)
    assert (counts.failed, counts.pending, counts.revoked, counts.threshold_days) == (2, 1, 1, 30)
    page = response.content.decode()
    for value, label in ((7, "Active"), (3, "Expiring within 30 days"), (2, "Failed"), (1, "Pending"), (1, "Revoked")):
        assert f'<span class="stat-value">{value}</span> <span class="stat-label">{label}</span>' in page


def test_the_expiring_list_is_soonest_first_coloured_and_worded(mix, signed_in):
    response = signed_in(mix, "viewer").get("/")
    names = [certificate.identifier for certificate in response.context["expiring"]]
    # Revoked, failed-but-served-for-60-days and fine ones are not listed; the expired one comes first.
    assert names == ["gone.example.com", "in3.example.com", "in15.example.com", "in25.example.com"]
    page = response.content.decode()
    table = page[page.index('id="expiring"') : page.index("</table>", page.index('id="expiring"'))]
    badges = [(level, text) for level, text in _badges(table)]
    assert badges == [
        ("danger", "expired 5 days ago"),
        ("danger", "3 days left"),
        ("warning", "15 days left"),
        ("ok", "25 days left"),
    ]


def _badges(html: str):
    import re

    return re.findall(r'<time class="badge badge--(\w+)"[^>]*>([^<]+)</time>', html)


@pytest.mark.parametrize(
    ("delta", "level", "text"),
    [
        (timedelta(days=40), "ok", "40 days left"),
        (timedelta(days=21, hours=1), "warning", "21 days left"),
        (timedelta(days=7, hours=1), "danger", "7 days left"),
        (timedelta(days=1, hours=1), "danger", "1 day left"),
        (timedelta(hours=5), "danger", "expires today"),
        (timedelta(hours=-5), "danger", "expired today"),
        (timedelta(days=-1, hours=-1), "danger", "expired 1 day ago"),
    ],
)
def test_days_left_are_said_in_words_as_well_as_colour(delta, level, text):
    now = timezone.now()
    assert expiry_of(now + delta, now) == {"level": level, "text": text, "days": expiry_of(now + delta, now)["days"]}


def test_recent_jobs_poll_while_one_is_open_and_stop_after(mix, signed_in):
    client = signed_in(mix, "viewer")
    page = client.get("/").content.decode()
    assert 'hx-get="/jobs/recent/" hx-trigger="every 3s" hx-swap="outerHTML"' in page
    assert '<script src="/static/portal/htmx.min.js" defer></script>' in page
    fragment = client.get("/jobs/recent/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="recent-jobs"')  # the fragment alone, no page around it
    assert "waiting.example.com" in fragment and 'data-state="queued"' in fragment
    with tenant_context(mix):
        Job.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.FAILED, error="DNS said no")
    fragment = client.get("/jobs/recent/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in fragment  # nothing open: the swapped-in list stops polling
    assert 'data-state="failed">Failed<' in fragment and "DNS said no" in fragment
    page = client.get("/jobs/recent/")
    assert "<html" in page.content.decode()  # without htmx: a page of its own
    assert "HX-Request" in page["Vary"]  # caches keep the page and the fragment apart


def test_a_poll_after_the_session_ended_sends_the_page_to_sign_in(mix, signed_in):
    client = signed_in(mix, "viewer")
    client.post("/logout/")
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://{mix.get_primary_domain().domain}/?x=1"}
    response = client.get("/jobs/recent/", headers=headers)
    assert response.status_code == 204  # nothing swapped into the page: htmx loads the sign-in page instead
    assert response["HX-Redirect"] == "/login/?next=%2F"


def test_storage_problems_are_shown_with_details_for_admins(mix, signed_in):
    with tenant_context(mix):
        target = storage_config_active()
        versions = CertificateVersion.objects.order_by("pk")[:3]
        Publication.objects.create(
            version=versions[0], target=target, state=PublicationState.FAILED, attempts=8, last_error="disk full"
        )
        Publication.objects.create(
            version=versions[1], target=target, state=PublicationState.PENDING, attempts=2, last_error="timeout"
        )
        Publication.objects.create(version=versions[2], target=target, state=PublicationState.PUBLISHED, attempts=1)
    viewer = signed_in(mix, "viewer").get("/").content.decode()
    assert "Storage publication problems" in viewer
    assert "<strong>1</strong> publication given up on" in viewer and "<strong>1</strong> failing and retried" in viewer
    assert "disk full" not in viewer
    admin = signed_in(mix, "admin").get("/").content.decode()
    assert "disk full" in admin and "timeout" in admin


def test_no_storage_section_without_problems(mix, signed_in):
    assert "Storage publication problems" not in signed_in(mix, "admin").get("/").content.decode()


def test_private_cas_ending_soon_are_named(tenant_a, signed_in):
    with tenant_context(tenant_a):
        root, intermediate = ca_hierarchy_create(name="corp", common_name="Corp Issuing CA", actor=TEST_ACTOR)
        CertificateAuthority.objects.filter(pk=intermediate.pk).update(
            not_after=timezone.now() + timedelta(days=20, hours=1)
        )
    page = signed_in(tenant_a, "viewer").get("/").content.decode()
    section = page[page.index('id="ca-expiry"') :]
    assert intermediate.name in section and "20 days left" in section
    assert f"<strong>{root.name}</strong>" not in section  # ten years to go


def _bulk_certificates(count: int) -> None:
    """``count`` served certificates, half of them expiring within the threshold, written in bulk (a
    real version's fields copied with new fingerprints) so that a test can have hundreds quickly."""
    model = certificate_ending_in(f"model{next(_serial)}.example.com", 10).current_version
    now = timezone.now()
    certificates = Certificate.objects.bulk_create(
        Certificate(identifier=f"bulk{next(_serial)}-{n}.example.com", status=CertificateStatus.ACTIVE)
        for n in range(count)
    )
    fields = {field.name: getattr(model, field.name) for field in CertificateVersion._meta.concrete_fields}
    versions = []
    for n, certificate in enumerate(certificates):
        ends = now + timedelta(days=5 + n % 60)
        fingerprint = f"{next(_serial):064x}"
        versions.append(
            CertificateVersion(
                **{
                    **fields,
                    "id": None,
                    "certificate": certificate,
                    "not_after": ends,
                    "fingerprint_sha256": fingerprint,
                }
            )
        )
    CertificateVersion.objects.bulk_create(versions)
    for certificate, version in zip(certificates, versions, strict=True):
        certificate.current_version = version
    Certificate.objects.bulk_update(certificates, ["current_version"])
    Job.objects.bulk_create(
        Job(certificate=certificate, operation=JobOperation.RENEW, status=JobStatus.SUCCEEDED)
        for certificate in certificates
    )


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_dashboard_reads_a_bounded_number_of_queries(tenant_a, signed_in, django_assert_max_num_queries):
    client = signed_in(tenant_a, "admin")
    with tenant_context(tenant_a):
        _bulk_certificates(5)
    few = _dashboard_queries(client)
    with tenant_context(tenant_a):
        _bulk_certificates(250)
    # About ten reads (session, user, settings, counts, expiring, jobs, storage, CAs), each after
    # django-tenants' SET search_path.
    with django_assert_max_num_queries(24):
        response = client.get("/")
    assert response.context["counts"].total == 257
    assert len(response.context["expiring"]) == 10
    assert _dashboard_queries(client) == few  # nothing per row
