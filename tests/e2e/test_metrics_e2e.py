"""/metrics for a certificate Pebble really issued: the scrape parses with prometheus_client's own parser,
and its expiry gauge is the certificate's notAfter, on the platform's host and on its tenant's host (where
another tenant's certificates are absent)."""

from __future__ import annotations

import pytest
from cryptography import x509
from django.test import Client
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from apps.certificates.models import Certificate
from tests.api.conftest import bearer_client
from tests.conftest import PUBLIC_HOST
from tests.e2e.renewals import issue

pytestmark = [pytest.mark.tools]

EXPIRY = "certmate_certificate_expiration_timestamp_seconds"
TOKEN = "metrics-token-for-the-e2e-tests-0123456789"


def expiries(text: str) -> dict[tuple[str, str], float]:
    """(tenant, certificate name) → the expiry gauge, read with Prometheus' own parser."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return {(s.labels["tenant"], s.labels["name"]): s.value for s in families[EXPIRY].samples}


def test_metrics_report_the_expiry_of_a_certificate_pebble_issued(fresh_tenant, pebble, bind9, settings):
    alpha, beta = fresh_tenant(), fresh_tenant()
    jobs = {tenant: issue(tenant, pebble, bind9, in_process=True) for tenant in (alpha, beta)}
    leaves = {}
    for tenant, job in jobs.items():
        with tenant_context(tenant):
            cert = Certificate.objects.select_related("current_version").get(pk=job.certificate_id)
        assert cert.current_version is not None, f"{tenant.schema_name}: Pebble did not issue"
        leaf = x509.load_pem_x509_certificate(cert.current_version.certificate_pem.encode())
        leaves[tenant.schema_name, cert.identifier] = leaf.not_valid_after_utc.timestamp()

    settings.CERTMATE_METRICS_TOKEN = TOKEN
    response = Client(HTTP_HOST=PUBLIC_HOST).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    platform = expiries(response.content.decode())
    for key, not_after in leaves.items():
        assert platform[key] == not_after, f"{key}: the gauge is the certificate's notAfter"

    own = bearer_client(alpha, role="viewer").get("/metrics")
    assert own.status_code == 200, own.content[:300]
    seen = expiries(own.content.decode())
    assert {key: seen[key] for key in seen if key in leaves} == {
        key: value for key, value in leaves.items() if key[0] == alpha.schema_name
    }, "a tenant's scrape shows its own certificates, never another tenant's"
    assert {tenant for tenant, _ in seen} == {alpha.schema_name}
