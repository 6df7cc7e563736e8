"""Revocation is a job run by a worker: the request answers at once (202), a repeat joins the open job,
and a CA that cannot register the account fails the job with a clear reason — never a 500, and never
a transaction open while the CA answers."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import RegistrationError, ca_account_ensure_registered
from apps.certificates.models import CaAccount, Certificate, Job, JobOperation, JobStatus
from apps.certificates.services.jobs import job_run
from tests.api.conftest import bearer_client
from tests.factories import TEST_ACTOR, version_add
from tests.transactions import TransactionProbe
from tests.worker import purge_broker


@pytest.fixture
def stand_in_ca():
    with TransactionProbe(status=503) as probe:
        yield probe
    purge_broker()  # the jobs these tests queued (run here, in-process) must not reach a later worker


def unregistered_account(url: str) -> CaAccount:
    # Straight to the row: the service accepts only https directories, and this stand-in speaks http.
    return CaAccount.objects.create(name="stand-in", directory_url=f"{url}/directory", email="ops@example.com")


def test_registering_holds_no_transaction_while_the_ca_answers(fresh_tenant, stand_in_ca):
    with tenant_context(fresh_tenant()):
        account = unregistered_account(stand_in_ca.url)
        stand_in_ca.watch()
        with pytest.raises(RegistrationError, match=r"registering the ACME account at .* failed"):
            ca_account_ensure_registered(actor=TEST_ACTOR, ca_account_id=account.pk, timeout_seconds=60)
        assert CaAccount.objects.get(pk=account.pk).registered_at is None
    stand_in_ca.assert_called_with_no_transaction_open()


# One attempt: the stand-in CA answers 503, which a job retries later (the CA's status is in its output).
@override_settings(CERTMATE_RETRY_ATTEMPTS=1)
def test_revoke_is_a_job_and_failed_registration_is_its_reason(fresh_tenant, stand_in_ca):
    alpha, beta = fresh_tenant(), fresh_tenant()
    with tenant_context(alpha):
        certificate = Certificate.objects.create(identifier="revoke.example.com")
        version_add(certificate)
        certificate.ca_account = unregistered_account(stand_in_ca.url)
        certificate.save()
    operator = bearer_client(alpha, "operator")
    url = f"/api/certificates/{certificate.identifier}/revoke"
    assert bearer_client(alpha, "viewer").post(url, {"reason": "keycompromise"}).status_code == 403
    assert bearer_client(beta, "admin").post(url, {"reason": "keycompromise"}).status_code == 404

    response = operator.post(url, {"reason": "keycompromise"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["operation"], body["status"], body["version"], body["revocation_reason"]) == (
        "revoke",
        "queued",
        1,
        "keycompromise",
    )
    again = operator.post(url, {"reason": "superseded"})
    assert again.status_code == 202 and again.json()["job_id"] == body["job_id"]  # joins the open job
    renew = operator.post(f"/api/certificates/{certificate.identifier}/renew", {"force": True})
    assert renew.status_code == 409 and renew.json()["code"] == "job_open"

    with tenant_context(alpha):
        stand_in_ca.watch()
        job_run(job_id=body["job_id"])
    stand_in_ca.assert_called_with_no_transaction_open()
    job = operator.get(body["status_url"]).json()
    assert job["status"] == "failed", job
    assert "registering the ACME account at" in job["error"] and "failed" in job["error"]
    assert bearer_client(beta, "admin").get(body["status_url"]).status_code == 404
    with tenant_context(alpha):
        assert Certificate.objects.get(pk=certificate.pk).current_version.revoked_at is None


def test_a_version_already_revoked_is_answered_with_its_revocation(fresh_tenant):
    from django.utils import timezone

    alpha = fresh_tenant()
    with tenant_context(alpha):
        certificate = Certificate.objects.create(identifier="done.example.com")
        version = version_add(certificate)
        version.revoked_at, version.revocation_reason = timezone.now(), "superseded"
        version.save()
    operator = bearer_client(alpha, "operator")
    url = f"/api/certificates/{certificate.identifier}/revoke"
    first = operator.post(url, {"reason": "keycompromise"})
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["revocation_reason"]) == ("succeeded", "superseded")
    assert operator.post(url, {}).json()["job_id"] == first.json()["job_id"]
    with tenant_context(alpha):
        assert Job.objects.filter(operation=JobOperation.REVOKE, status=JobStatus.SUCCEEDED).count() == 1


def test_an_account_being_registered_is_not_changed_meanwhile(tenant_a):
    from certmate.locks import CA_ACCOUNT, session_lock

    admin = bearer_client(tenant_a, "admin")
    with tenant_context(tenant_a):
        account = CaAccount.objects.create(name="busy", directory_url="https://ca.example/dir", email="a@alpha.test")
        with session_lock(CA_ACCOUNT, str(account.pk)) as registering:  # as a worker registering it holds
            assert registering
            response = admin.patch(f"/api/ca-accounts/{account.pk}", {"email": "b@alpha.test"})
        assert response.status_code == 409 and "being registered" in response.json()["error"]
        assert admin.patch(f"/api/ca-accounts/{account.pk}", {"email": "b@alpha.test"}).status_code == 200
