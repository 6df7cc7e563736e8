"""/metrics: Prometheus' text format read from the tenants' tables, parsed by prometheus_client's own
parser; never open by default; each tenant's host shows that tenant only."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from cryptography import x509
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from apps.accounts.models import ApiToken
from apps.accounts.services.tokens import token_create
from apps.certificates.models import CaAccount, Certificate, Job, JobOperation, JobStatus
from tests.api.conftest import api_user, bearer_client, host_of, tenant_client  # noqa: F401 - api_user: fixture
from tests.conftest import PUBLIC_HOST, TENANT_A
from tests.factories import TEST_ACTOR, certificate_make

TOKEN = "m" * 40
EXPIRY = "certmate_certificate_expiration_timestamp_seconds"


def parsed(text: str) -> dict[str, list]:
    """{family name: its samples}, as Prometheus' client library reads the page."""
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def samples_of(families: dict, family: str, **labels) -> list:
    return [s for s in families.get(family, []) if all(s.labels.get(k) == v for k, v in labels.items())]


@pytest.fixture
def two_tenants(tenant_a, tenant_b):
    """A real certificate version in each tenant (same name in both), and a failed renewal in alpha."""
    made = {}
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            certificate = certificate_make("www.example.com")
            made[tenant.schema_name] = certificate.current_version
            if tenant is tenant_a:
                started = timezone.now() - timedelta(seconds=42)
                Job.objects.create(certificate=certificate, operation=JobOperation.RENEW, status=JobStatus.FAILED,
                                   started_at=started, finished_at=started + timedelta(seconds=60))  # fmt: skip
    return made


def scrape(client, host: str = PUBLIC_HOST, **headers):
    return client.get("/metrics", headers={"host": host, **headers})


def test_never_open_by_default(db, client, two_tenants):
    response = scrape(client)
    assert response.status_code == 404
    assert b"certmate_" not in response.content
    assert scrape(client, TENANT_A["domain"]).status_code == 401  # a tenant's host wants its token


@override_settings(CERTMATE_METRICS_TOKEN=TOKEN)
def test_platform_scrape_reports_each_tenants_real_expiry_labelled_apart(db, client, two_tenants):
    response = scrape(client, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "Content-Encoding" not in response
    families = parsed(response.content.decode())
    # Prometheus asks for gzip: the same page, compressed.
    packed = scrape(client, authorization=f"Bearer {TOKEN}", accept_encoding="gzip")
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert parsed(gzip.decompress(packed.content).decode()) == families
    for slug, version in two_tenants.items():
        expires = x509.load_pem_x509_certificate(version.certificate_pem.encode()).not_valid_after_utc
        (sample,) = samples_of(families, EXPIRY, tenant=slug, name="www.example.com")
        assert sample.value == expires.timestamp()
        assert sample.labels == {"tenant": slug, "name": "www.example.com", "kind": "server", "issuer": "le"}
        ready = {s.labels["condition"]: s.value for s in samples_of(
            families, "certmate_certificate_ready_status", tenant=slug, name="www.example.com")}  # fmt: skip
        assert ready == {"True": 1, "False": 0}
        (renewal,) = samples_of(families, "certmate_certificate_renewal_timestamp_seconds", tenant=slug)
        assert renewal.value == version.certificate.renew_at.timestamp()
    # Jobs by operation and status, and the failed renewal's 60 s in the duration histogram (le is inclusive).
    (failed,) = samples_of(families, "certmate_jobs", tenant="alpha", operation="renew", status="failed")
    assert failed.value == 1
    assert not samples_of(families, "certmate_jobs", tenant="beta", status="failed")
    durations = samples_of(families, "certmate_job_duration_seconds", tenant="alpha", operation="renew")
    buckets = {s.labels["le"]: s.value for s in durations if s.name.endswith("_bucket")}
    assert buckets["30.0"] == 0 and buckets["60.0"] == 1 and buckets["+Inf"] == 1
    assert [s.value for s in durations if s.name.endswith(("_sum", "_count"))] == [1, 60.0]


@override_settings(CERTMATE_METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("authorization", [None, "Bearer " + "x" * 40, "Basic " + TOKEN, f"Bearer {TOKEN[:-1]}"])
def test_platform_scrape_without_the_token_is_refused(db, client, two_tenants, authorization):
    headers = {"authorization": authorization} if authorization else {}
    response = scrape(client, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert b"www.example.com" not in response.content


@pytest.mark.parametrize(("allowed", "status"), [(["10.0.0.0/8"], 403), (["127.0.0.0/8", "::1/128"], 200)])
def test_platform_scrape_from_networks(db, client, two_tenants, allowed, status):
    with override_settings(CERTMATE_METRICS_ALLOW=allowed):
        response = scrape(client)  # the test client's address: 127.0.0.1
    assert response.status_code == status


@override_settings(CERTMATE_METRICS_TOKEN=TOKEN, CERTMATE_METRICS_ALLOW=["10.0.0.0/8"])
def test_with_both_set_the_token_alone_is_not_enough(db, client, two_tenants):
    assert scrape(client, authorization=f"Bearer {TOKEN}").status_code == 403


@override_settings(CERTMATE_METRICS_TOKEN=TOKEN)
def test_a_tenants_host_shows_that_tenant_only_for_its_own_token(db, tenant_a, tenant_b, two_tenants):
    own = scrape(bearer_client(tenant_a, "viewer"), host_of(tenant_a))
    assert own.status_code == 200
    tenants = {s.labels["tenant"] for samples in parsed(own.content.decode()).values() for s in samples}
    assert tenants == {"alpha"}
    # Beta's token on alpha's host is unknown there; the platform's token is not a tenant's.
    beta_token = bearer_client(tenant_b)._credentials["HTTP_AUTHORIZATION"]
    assert scrape(tenant_client(tenant_a), host_of(tenant_a), authorization=beta_token).status_code == 401
    assert scrape(tenant_client(tenant_a), host_of(tenant_a), authorization=f"Bearer {TOKEN}").status_code == 401


def test_a_token_scoped_to_some_certificates_is_refused(db, tenant_a, api_user, two_tenants):  # noqa: F811
    with tenant_context(tenant_a):
        token, raw = token_create(user=api_user(tenant_a), role="admin", name="scoped", actor=TEST_ACTOR)
        ApiToken.objects.filter(pk=token.pk).update(allowed_domains=["www.example.com"])
    response = scrape(tenant_client(tenant_a), TENANT_A["domain"], authorization=f"Bearer {raw}")
    assert response.status_code == 403


HOSTILE = 'evil"} 1\ncertmate_injected{tenant="beta"} 1\n# TYPE x counter\\'


@override_settings(CERTMATE_METRICS_TOKEN=TOKEN)
def test_hostile_names_and_issuers_are_escaped_not_injected(db, client, tenant_a, two_tenants):
    with tenant_context(tenant_a):
        certificate = certificate_make("hostile.example.com")
        CaAccount.objects.filter(pk=certificate.ca_account_id).update(name=HOSTILE)
        Certificate.objects.filter(pk=certificate.pk).update(identifier=HOSTILE)
    response = scrape(client, authorization=f"Bearer {TOKEN}")
    families = parsed(response.content.decode())
    assert not any("injected" in name or name == "x" for name in families)
    (sample,) = samples_of(families, EXPIRY, tenant="alpha", name=HOSTILE)
    assert sample.labels == {"tenant": "alpha", "name": HOSTILE, "kind": "server", "issuer": HOSTILE}
    assert sample.value == certificate.current_version.not_after.timestamp()
    assert len(samples_of(families, EXPIRY, tenant="alpha")) == 2
    assert {s.labels["tenant"] for s in families["certmate_certificate_ready_status"]} == {"alpha", "beta"}
