"""certbot's output of a job is untrusted text: only the tenant's admins read it (API and admin site);
viewers and operators see the one-line error, and no tenant sees another's."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from apps.certificates.models import Job
from certmate.actors import Actor
from tests.api.conftest import tenant_client
from tests.conftest import PASSWORD
from tests.factories import certificate_make


def failed_job(tenant) -> Job:
    with tenant_context(tenant):
        certificate = certificate_make(f"www.{tenant.schema_name}.test", versions=0)
        return Job.objects.create(
            certificate=certificate,
            operation="issue",
            status="failed",
            error=f"www.{tenant.schema_name}.test: DNS problem",
            output=f"certbot log of {tenant.schema_name}: OUTPUT-{tenant.schema_name}",
        )


def admin_site_client(tenant, role: str) -> tuple[Client, dict[str, str]]:
    """A browser signed in to the tenant's admin site as a new user with ``role``, and the host header."""
    email = f"{role}-output@{tenant.schema_name}.test"
    with tenant_context(tenant):
        user_create(email=email, password=PASSWORD, role=role, actor=Actor.command())
    client = Client()
    host = {"host": tenant.get_primary_domain().domain}
    assert client.post("/admin/login/", {"username": email, "password": PASSWORD}, headers=host).status_code == 302
    return client, host


@pytest.mark.parametrize(("role", "sees_output"), [("viewer", False), ("operator", False), ("admin", True)])
def test_only_admins_read_a_jobs_output_over_the_api(tenant_a, tenant_b, role, sees_output):
    jobs = {tenant.schema_name: failed_job(tenant) for tenant in (tenant_a, tenant_b)}
    for tenant, other in ((tenant_a, tenant_b), (tenant_b, tenant_a)):
        client = tenant_client(tenant)
        with tenant_context(tenant):
            user = user_create(
                email=f"{role}-api@{tenant.schema_name}.test", password=PASSWORD, role=role, actor=Actor.command()
            )
            client.credentials(
                HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, role=role, name='t', actor=Actor.command())[1]}"
            )
        detail = client.get(f"/api/certificates/jobs/{jobs[tenant.schema_name].pk}").json()
        assert detail["error"] == f"www.{tenant.schema_name}.test: DNS problem"
        assert detail["output"] == (
            f"certbot log of {tenant.schema_name}: OUTPUT-{tenant.schema_name}" if sees_output else None
        )
        listing = client.get("/api/certificates/jobs").content.decode()
        assert "OUTPUT-" not in listing
        for job in client.get("/api/certificates/jobs").json()["jobs"]:
            seen = client.get(f"/api/certificates/jobs/{job['job_id']}").content.decode()
            assert f"OUTPUT-{other.schema_name}" not in seen


@pytest.mark.parametrize(("role", "sees_output"), [("viewer", False), ("operator", False), ("admin", True)])
def test_only_admins_read_a_jobs_output_in_the_admin_site(tenant_a, tenant_b, role, sees_output):
    for tenant in (tenant_a, tenant_b):
        job = failed_job(tenant)
        client, host = admin_site_client(tenant, role)
        page = client.get(f"/admin/certificates/job/{job.pk}/change/", headers=host)
        assert page.status_code == 200
        text = page.content.decode()
        assert f"www.{tenant.schema_name}.test: DNS problem" in text
        assert (f"OUTPUT-{tenant.schema_name}" in text) is sees_output


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_the_admin_sites_job_list_cannot_be_filtered_by_the_output_it_hides(tenant_a, role):
    # Django's admin takes any lookup on a model's own field from the query string: with ?output__contains=
    # a viewer could tell, a character at a time, what the admins-only output says.
    failed_job(tenant_a)
    client, host = admin_site_client(tenant_a, role)
    for lookup in ("output__contains", "output__startswith", "output__regex", "output"):
        page = client.get("/admin/certificates/job/", {lookup: "certbot log"}, headers=host)
        assert page.status_code in (302, 400), (lookup, page.status_code)
    assert client.get("/admin/certificates/job/", {"status": "failed"}, headers=host).status_code == 200
