"""Server certificates through the real path: certbot against Pebble, DNS-01 through BIND9."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography import x509
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.certificates.models import Certificate, CertificateVersion, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from apps.certificates.tasks import certificate_issue_task
from tests.concurrency import run_together
from tests.conftest import TENANT_A, TENANT_B
from tests.e2e.issuance import accounts_for, holding, leftovers, unique, wait_for_job
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.tools


def assert_chains_to(version: CertificateVersion, root_pem: str) -> None:
    leaf = x509.load_pem_x509_certificate(version.certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(version.chain_pem.encode())
    root = x509.load_pem_x509_certificate(root_pem.encode())
    issuer = leaf
    for cert in [*chain, root]:
        issuer.verify_directly_issued_by(cert)
        issuer = cert
    assert version.fullchain_pem.startswith(version.certificate_pem.strip())


@pytest.mark.worker
@pytest.mark.parametrize(
    ("shape", "key_type", "algorithm", "size"),
    [
        ("single", "ec256", "EC", 256),
        ("apex+wildcard", "ec256", "EC", 256),
        ("single", "ec384", "EC", 384),
        ("single", "rsa3072", "RSA", 3072),
    ],
)
def test_issued_certificate_has_the_names_and_key_asked_for(
    live_db, worker, pebble, bind9, shape, key_type, algorithm, size
):
    tenant = Tenant.objects.get(schema_name=TENANT_A["slug"])
    ca, dns = accounts_for(tenant, pebble, bind9)
    domain = f"{unique()}.certmate.test"
    sans = [f"*.{domain}"] if shape == "apex+wildcard" else []
    with tenant_context(tenant):
        job = certificate_request(
            identifier=domain, san_domains=sans, key_type=key_type, ca_account=ca, dns_account=dns, actor=TEST_ACTOR
        )
    job = wait_for_job(tenant, job.pk)
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-2000:]}"
    version = job.version
    assert sorted(version.san) == sorted([domain, *sans])
    assert (version.key_algorithm, version.key_size) == (algorithm, size)
    assert "server_auth" in version.extended_key_usage
    assert_chains_to(version, pebble.root_pem())
    with tenant_context(tenant):
        certificate = Certificate.objects.get(identifier=domain)
        assert certificate.current_version_id == version.pk
        assert certificate.status == "active"
        key = CertificateVersion.objects.get(pk=version.pk).private_key
    assert key.startswith("-----BEGIN") and "PRIVATE KEY" in key
    assert job.duration_seconds is not None and job.output


def in_process_job(tenant, pebble, bind9, **accounts_options):
    ca, dns = accounts_for(tenant, pebble, bind9, **accounts_options)
    domain = f"{unique()}.certmate.test"
    with tenant_context(tenant):
        job = certificate_request(identifier=domain, ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        return certificate_issue(job_id=job.pk), domain


def test_eab_ca_refuses_an_account_without_eab_and_accepts_one_with(tenant_a, pebble_factory, bind9):
    kid, hmac = "kid-1", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    eab_pebble = pebble_factory(eab_keys={kid: hmac})
    job, _ = in_process_job(tenant_a, eab_pebble, bind9)
    assert job.status == JobStatus.FAILED
    assert "external account" in job.error.lower(), job.error
    job, _ = in_process_job(tenant_a, eab_pebble, bind9, eab=(kid, hmac))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert hmac not in job.output


def test_wrong_tsig_secret_fails_with_the_dns_reason_and_leaves_nothing(tenant_a, pebble, bind9):
    before = leftovers()
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    job, domain = in_process_job(tenant_a, pebble, bind9, tsig_secret=wrong)
    assert job.status == JobStatus.FAILED
    assert domain in job.error
    assert any(word in job.error for word in ("BADSIG", "NOTAUTH", "TSIG", "tsig", "signature")), job.error
    assert wrong not in job.output and wrong not in job.error
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier=domain)
        assert certificate.versions.count() == 0 and certificate.current_version is None
        assert certificate.status == "failed" and certificate.last_error == job.error
    assert not holding(leftovers() - before, wrong), "the run's folder with the DNS credentials must be removed"


def test_issuance_gets_past_a_ca_rejecting_30_percent_of_nonces(tenant_a, pebble_factory, bind9, settings):
    # certbot retries a refused nonce once; at 30% about a third of whole runs still fail, so certmate
    # runs the order again. 25 runs make a false failure of this test about a 1 in 50,000 event.
    settings.CERTMATE_ACME_NONCE_ATTEMPTS = 25
    flaky = pebble_factory(nonce_reject_percent=30)
    job, _ = in_process_job(tenant_a, flaky, bind9)
    assert job.status == JobStatus.SUCCEEDED, job.error


@pytest.mark.worker
def test_two_tenants_ordering_the_same_domain_at_once_stay_apart(live_db, worker, pebble, bind9):
    alpha = Tenant.objects.get(schema_name=TENANT_A["slug"])
    beta = Tenant.objects.get(schema_name=TENANT_B["slug"])
    domain = f"{unique()}.certmate.test"
    jobs = {}
    for tenant in (alpha, beta):
        ca, dns = accounts_for(tenant, pebble, bind9)
        with tenant_context(tenant):
            jobs[tenant.schema_name] = (
                certificate_request(identifier=domain, ca_account=ca, dns_account=dns, actor=TEST_ACTOR).pk,
                ca.pk,
            )
    results = {slug: wait_for_job(t, jobs[slug][0]) for slug, t in (("alpha", alpha), ("beta", beta))}
    for job in results.values():
        assert job.status == JobStatus.SUCCEEDED, job.error
    assert results["alpha"].version.fingerprint_sha256 != results["beta"].version.fingerprint_sha256
    uris = []
    for tenant in (alpha, beta):
        with tenant_context(tenant):
            from apps.certificates.models import CaAccount

            uris.append(CaAccount.objects.get(pk=jobs[tenant.schema_name][1]).acme_account_uri)
            fingerprints = set(CertificateVersion.objects.values_list("fingerprint_sha256", flat=True))
        other = results["beta" if tenant is alpha else "alpha"].version.fingerprint_sha256
        assert other not in fingerprints, "one tenant's material is visible in the other's schema"
    assert uris[0] and uris[1] and uris[0] != uris[1], "each tenant has its own ACME account"


@pytest.mark.worker
def test_the_same_job_raced_by_two_workers_gives_one_version(live_db, worker, pebble, bind9):
    tenant = Tenant.objects.get(schema_name=TENANT_A["slug"])
    ca, dns = accounts_for(tenant, pebble, bind9)
    domain = f"{unique()}.certmate.test"
    with tenant_context(tenant):
        job = certificate_request(identifier=domain, ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        again = certificate_request(identifier=domain, ca_account=ca, dns_account=dns, actor=TEST_ACTOR)
        assert again.pk == job.pk, "a second request while the first is open joins it"
        certificate_issue_task.delay(job.pk)  # a duplicate delivery of the same job
        certificate_issue_task.delay(job.pk)
    done = wait_for_job(tenant, job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    with tenant_context(tenant):
        assert CertificateVersion.objects.filter(certificate__identifier=domain).count() == 1


def test_two_requests_racing_in_threads_make_one_job(live_db, pebble, bind9):
    tenant_a = Tenant.objects.get(schema_name=TENANT_A["slug"])
    ca, dns = accounts_for(tenant_a, pebble, bind9)
    domain = f"{unique()}.certmate.test"

    def ask():
        with tenant_context(tenant_a):
            return certificate_request(identifier=domain, ca_account=ca, dns_account=dns, actor=TEST_ACTOR).pk

    assert len(set(run_together(ask, 4))) == 1
