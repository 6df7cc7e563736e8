"""Revocation at a real CA: certbot revokes through Pebble with the account that ordered the certificate,
in a job (run here in-process, or by a real worker for the command)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateEvent, EventKind, JobStatus
from apps.certificates.services.jobs import job_run
from certmate.audit.models import AuditEvent
from tests.api.conftest import bearer_client as client_of
from tests.api.conftest import tenant_client
from tests.e2e.renewals import issue

pytestmark = pytest.mark.tools


def issued(tenant, pebble, bind9) -> Certificate:
    job = issue(tenant, pebble, bind9, in_process=True)
    with tenant_context(tenant):
        certificate = Certificate.objects.select_related("current_version").get(pk=job.certificate_id)
        assert certificate.jobs.get().status == JobStatus.SUCCEEDED
        return certificate


def test_revoke_through_the_api_at_the_ca_and_only_once(tenant_a, tenant_b, pebble, bind9):
    certificate = issued(tenant_a, pebble, bind9)
    serial = certificate.current_version.serial
    assert pebble.certificate_status(serial)["Status"] == "Valid"
    url = f"/api/certificates/{certificate.identifier}/revoke"
    assert client_of(tenant_a, "viewer").post(url, {"reason": "keycompromise"}).status_code == 403
    assert tenant_client(tenant_a).post(url, {"reason": "keycompromise"}).status_code == 401
    assert client_of(tenant_b, "admin").post(url, {"reason": "keycompromise"}).status_code == 404  # beta has none

    operator = client_of(tenant_a, "operator")
    response = operator.post(url, {"reason": "keycompromise"})
    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["operation"], queued["status"], queued["version"]) == ("revoke", "queued", 1)
    assert pebble.certificate_status(serial)["Status"] == "Valid"  # nothing happens in the request
    with tenant_context(tenant_a):
        job_run(job_id=queued["job_id"])
    done = operator.get(queued["status_url"]).json()
    assert done["status"] == "succeeded" and done["revocation_reason"] == "keycompromise", done
    assert pebble.certificate_status(serial)["Status"] == "Revoked"
    with tenant_context(tenant_a):  # recorded with the revocation: its event (storage republishes) and audit
        [event] = CertificateEvent.objects.filter(certificate=certificate, kind=EventKind.REVOKED)
        assert (event.version_number, event.detail) == (1, {"reason": "keycompromise", "serial": serial})
        [audit] = AuditEvent.objects.filter(action="certificate.revoked", object_id=str(certificate.pk))
        assert (audit.actor_name, audit.changes["revocation_reason"]) == ("worker", ["", "keycompromise"])

    again = operator.post(url, {"reason": "superseded"})
    assert again.status_code == 200 and again.json()["job_id"] == queued["job_id"]  # the first answer stands
    listed = operator.get(f"/api/certificates/{certificate.identifier}/versions").json()["versions"]
    assert listed[0]["revoked_at"] and listed[0]["revocation_reason"] == "keycompromise"


def test_revoke_from_the_command_line_waits_for_a_worker(fresh_tenant, worker, pebble, bind9):
    tenant = fresh_tenant()
    certificate = issued(tenant, pebble, bind9)
    out = StringIO()
    call_command(
        "certificate", "revoke", "--tenant", tenant.schema_name, certificate.identifier, "--reason", "superseded",
        stdout=out,
    )  # fmt: skip
    assert f"{certificate.identifier} v1" in out.getvalue() and "revoked: superseded" in out.getvalue()
    assert pebble.certificate_status(certificate.current_version.serial)["Status"] == "Revoked"


def test_a_bad_reason_is_a_field_error(tenant_a):
    from tests.factories import certificate_make

    with tenant_context(tenant_a):
        certificate_make("reason.alpha.test")
    response = client_of(tenant_a, "operator").post("/api/certificates/reason.alpha.test/revoke", {"reason": "bored"})
    assert response.status_code == 400 and "reason" in response.json()["fields"]
