"""A job is named by its own number and its certificate's name: two jobs never read alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.certificates.models import Job, JobStatus
from apps.certificates.services import certificate_request
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR, accounts

HOST = {"host": TENANT_A["domain"]}


@pytest.fixture
def admin_client(client, tenant_a):
    response = client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=HOST)
    assert response.status_code == 302
    return client


def certificate_with_jobs(tenant, count: int):
    """A certificate whose issue job and ``count - 1`` renewals have run."""
    with tenant_context(tenant):
        ca, dns = accounts()
        first = certificate_request(identifier="www.alpha.test", ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        Job.objects.filter(pk=first.pk).update(status=JobStatus.SUCCEEDED)
        for _ in range(count - 1):
            Job.objects.create(certificate_id=first.certificate_id, operation="renew", status=JobStatus.SUCCEEDED)
        return first.certificate


def test_two_jobs_read_apart(tenant_a):
    certificate = certificate_with_jobs(tenant_a, 2)
    with tenant_context(tenant_a):
        renewal, issue = Job.objects.filter(certificate=certificate).order_by("-pk")
        assert str(issue) == f"job {issue.pk}: issue www.alpha.test (succeeded)"
        assert str(renewal) == f"job {renewal.pk}: renew www.alpha.test (succeeded)"


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=HOST)
    assert response.status_code == 200
    return len(queries)


def test_admin_pages_name_jobs_without_a_query_per_job(admin_client, tenant_a):
    certificate = certificate_with_jobs(tenant_a, 1)
    page = f"/admin/certificates/certificate/{certificate.pk}/change/"
    few = (queries_of(admin_client, page), queries_of(admin_client, "/admin/certificates/job/"))
    with tenant_context(tenant_a):
        Job.objects.bulk_create(
            Job(certificate=certificate, operation="renew", status=JobStatus.FAILED, error="x") for _ in range(5)
        )
        named = [str(job) for job in Job.objects.filter(certificate=certificate).order_by("pk")]
    assert (queries_of(admin_client, page), queries_of(admin_client, "/admin/certificates/job/")) == few
    body = admin_client.get(page, headers=HOST).content.decode()
    assert all(name in body for name in named[1:]), "each job row is named by the job's own number"
