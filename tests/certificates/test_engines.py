"""Issuing engines sit behind one interface: the services issue, retry, wait and revoke through whichever
engine serves a certificate's issuer, and know nothing of certbot. An engine standing in for ACME here
shows it, with real certificates (tests.factories) and a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.engines import Engine, EngineError, Wait, engine_for, engine_register
from apps.certificates.issued import Issued
from apps.certificates.models import CaAccount, CertificateStatus, Job, JobOperation, JobStatus
from apps.certificates.services import certificate_issue
from apps.certificates.services.requests import CertificateRequestError, job_queue
from apps.certificates.services.revocation import certificate_revoke, revocation_run
from tests.factories import TEST_ACTOR, certificate_make, material


class OtherEngine(Engine):
    """Issues from the test CA; refuses, or makes orders wait, when told to."""

    def __init__(self):
        self.refusal: EngineError | None = None
        self.wait: Wait | None = None
        self.revoked: list[tuple[int, str]] = []
        self.kept_alive = 0

    def check(self, certificate, *, revoking=False):
        if certificate.issuer is None:
            raise EngineError(f"{certificate.identifier} has no issuer", code="no_issuer")

    def obtain(self, certificate, *, keep_alive):
        keep_alive()
        self.kept_alive += 1
        if self.refusal:
            raise self.refusal
        made = material(certificate.names)
        return Issued(made.cert_pem, made.chain_pem, made.fullchain_pem, made.key_pem, output="other engine: issued")

    def revoke(self, certificate, version, *, reason, keep_alive):
        keep_alive()
        self.revoked.append((version.number, reason))
        return "other engine: revoked"

    def order_wait(self, certificate, *, now):
        return self.wait


@pytest.fixture
def other_engine():
    engine = OtherEngine()
    replaced = engine_register(engine, issuer=CaAccount)
    yield engine
    engine_register(replaced, issuer=CaAccount)


def queued(certificate, operation=JobOperation.ISSUE) -> Job:
    return job_queue(certificate=certificate, operation=operation, actor=TEST_ACTOR)


def test_the_engine_of_the_certificates_issuer_issues_and_revokes_it(tenant_a, other_engine):
    with tenant_context(tenant_a):
        certificate = certificate_make("engine.alpha.test", san_domains=("www.engine.alpha.test",), versions=0)
        assert engine_for(certificate) is other_engine
        job = certificate_issue(job_id=queued(certificate).pk)
        assert job.status == JobStatus.SUCCEEDED and job.output == "other engine: issued"
        certificate.refresh_from_db()
        assert certificate.status == CertificateStatus.ACTIVE
        assert sorted(certificate.current_version.san) == ["engine.alpha.test", "www.engine.alpha.test"]
        assert other_engine.kept_alive == 1

        revocation = certificate_revoke(certificate=certificate, reason="superseded", actor=TEST_ACTOR)
        done = revocation_run(job_id=revocation.pk)
        assert done.status == JobStatus.SUCCEEDED and done.output == "other engine: revoked"
        assert other_engine.revoked == [(1, "superseded")]
        version = certificate.versions.get()
        assert version.revoked_at is not None and version.revocation_reason == "superseded"


def test_a_transient_refusal_is_tried_again_not_before_the_issuer_said(tenant_a, other_engine):
    other_engine.refusal = EngineError("the issuer is busy", "log", transient=True, retry_after=7200)
    with tenant_context(tenant_a):
        certificate = certificate_make("busy.alpha.test", versions=0)
        job = certificate_issue(job_id=queued(certificate).pk)
        assert job.status == JobStatus.QUEUED and job.attempts == 1
        assert "the issuer is busy" in job.error
        assert job.queued_at >= timezone.now() + timedelta(seconds=7100)


def test_a_permanent_refusal_fails_the_job_with_the_engines_reason(tenant_a, other_engine):
    other_engine.refusal = EngineError("the issuer refuses these names", "log")
    with tenant_context(tenant_a):
        certificate = certificate_make("refused.alpha.test", versions=0)
        job = certificate_issue(job_id=queued(certificate).pk)
        assert job.status == JobStatus.FAILED and job.error == "the issuer refuses these names"
        certificate.refresh_from_db()
        assert certificate.status == CertificateStatus.FAILED
        assert certificate.last_error == "the issuer refuses these names"


def test_an_order_waits_for_the_engines_order_window(tenant_a, other_engine):
    other_engine.wait = Wait(600, "waiting for the issuer's window")
    with tenant_context(tenant_a):
        certificate = certificate_make("later.alpha.test", versions=0)
        job = certificate_issue(job_id=queued(certificate).pk)
        assert job.status == JobStatus.QUEUED and job.attempts == 0
        assert job.progress == "waiting for the issuer's window"
        assert other_engine.kept_alive == 0


def test_a_refused_revocation_request_answers_the_engines_reason(tenant_a):
    with tenant_context(tenant_a):
        certificate = certificate_make("no-ca.alpha.test")
        certificate.ca_account = None
        certificate.save()
        with pytest.raises(EngineError):
            engine_for(certificate).check(certificate, revoking=True)
        with pytest.raises(CertificateRequestError, match="has no CA account to revoke it with") as refused:
            certificate_revoke(certificate=certificate, actor=TEST_ACTOR)
        assert refused.value.code == "no_ca"
