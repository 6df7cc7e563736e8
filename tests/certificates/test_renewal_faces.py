"""Renewals from the command line and the admin."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import Certificate, Job, JobStatus, RenewalSweep
from apps.certificates.services import certificate_request
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR

CREDENTIALS = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def certificate(tenant, identifier, *, renew_in: timedelta) -> Certificate:
    """A certificate as if issued, due ``renew_in`` from now (negative: already due)."""
    with tenant_context(tenant):
        ca = ca_account_create(actor=TEST_ACTOR, name=f"ca-{identifier}", directory="letsencrypt", email="a@alpha.test")
        dns = dns_account_create(
            actor=TEST_ACTOR, name=f"dns-{identifier}", provider="rfc2136", credentials=CREDENTIALS
        )
        job = certificate_request(identifier=identifier, ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
        Certificate.objects.filter(pk=job.certificate_id).update(renew_at=timezone.now() + renew_in)
        # current_version is what makes a certificate renewable; any version row will do here
        from apps.certificates.models import CertificateVersion

        version = CertificateVersion.objects.create(
            certificate_id=job.certificate_id, number=1, serial="01", not_before=timezone.now(),
            not_after=timezone.now() + timedelta(days=90), subject="CN=x", issuer="CN=ca", san=[identifier],
            key_algorithm="EC", key_size=256, fingerprint_sha256=identifier.ljust(64, "0")[:64],
            certificate_pem="", chain_pem="", fullchain_pem="", private_key="k",
        )  # fmt: skip
        Certificate.objects.filter(pk=job.certificate_id).update(current_version=version)
        return Certificate.objects.get(pk=job.certificate_id)


def test_install_schedule_is_idempotent(db):
    first = run("renewals", "install-schedule")
    second = run("renewals", "install-schedule")
    assert first == second and "every 3600 seconds" in first
    assert "every every" not in first
    sweep_line = "installed 'certmate: renewal sweep': apps.certificates.tasks.renewal_sweep_all_task"
    sweep_line += " every 3600 seconds"
    assert sweep_line in first.splitlines()
    task = PeriodicTask.objects.get(name="certmate: renewal sweep")
    assert task.task == "apps.certificates.tasks.renewal_sweep_all_task" and task.enabled


def test_run_due_queues_the_due_and_leaves_a_record(tenant_a):
    certificate(tenant_a, "due.alpha.test", renew_in=-timedelta(hours=1))
    certificate(tenant_a, "later.alpha.test", renew_in=timedelta(days=20))
    lines = run("renewals", "run-due", "--tenant", "alpha", "--no-jitter").splitlines()
    assert lines == ["alpha: 1 due, 1 queued, 0 lost jobs retried"]
    with tenant_context(tenant_a):
        sweep = RenewalSweep.objects.get()
        assert (sweep.due, sweep.queued) == (1, 1)
        assert [j.certificate.identifier for j in sweep.jobs.all()] == ["due.alpha.test"]
    again = run("renewals", "run-due", "--tenant", "alpha").splitlines()
    assert again == ["alpha: 1 due, 0 queued, 0 lost jobs retried"], "the open job is not queued twice"


def test_run_due_names_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="no active tenant with slug nobody"):
        run("renewals", "run-due", "--tenant", "nobody")


def test_certificate_renew_refuses_what_is_not_due_unless_forced(tenant_a):
    certificate(tenant_a, "later.alpha.test", renew_in=timedelta(days=20))
    with pytest.raises(CommandError, match=r"later\.alpha\.test is not due for renewal until .*: use force"):
        run("certificate", "renew", "--tenant", "alpha", "later.alpha.test")
    out = run("certificate", "renew", "--tenant", "alpha", "later.alpha.test", "--force")
    assert out.strip().endswith("renew later.alpha.test queued")
    with pytest.raises(CommandError, match=r"no certificate for missing\.alpha\.test"):
        run("certificate", "renew", "--tenant", "alpha", "missing.alpha.test")


def test_admin_shows_next_renewal_and_sweep_records(client, tenant_a):
    certificate(tenant_a, "due.alpha.test", renew_in=-timedelta(hours=1))
    run("renewals", "run-due", "--tenant", "alpha", "--no-jitter")
    host = {"host": TENANT_A["domain"]}
    client.post("/admin/login/", {"username": TENANT_A["admin_email"], "password": PASSWORD}, headers=host)
    listing = client.get("/admin/certificates/certificate/", headers=host).content.decode()
    assert "next renewal" in listing.lower()
    sweeps = client.get("/admin/certificates/renewalsweep/", headers=host)
    assert sweeps.status_code == 200
    text = sweeps.content.decode()
    assert "renewed" in text.lower() and "failed" in text.lower()
