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
from tests.e2e.issuance import unique
from tests.e2e.renewals import issue
from tests.factories import certificate_make

pytestmark = [pytest.mark.tools]

EXPIRY = "certmate_certificate_expiration_timestamp_seconds"
TOKEN = "metrics-token-for-the-e2e-tests-0123456789"


def expiries(text: str) -> dict[tuple[str, str], float]:
    """(tenant, certificate name) → the expiry gauge, read with Prometheus' own parser."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return {(s.labels["tenant"], s.labels["name"]): s.value for s in families[EXPIRY].samples}


def not_after_of(certificate: Certificate) -> float:
    """The notAfter of the certificate's current version, read from its PEM (Unix time)."""
    leaf = x509.load_pem_x509_certificate(certificate.current_version.certificate_pem.encode())
    return leaf.not_valid_after_utc.timestamp()


def test_metrics_report_the_expiry_of_a_certificate_pebble_issued(fresh_tenant, pebble, bind9, settings):
    alpha, beta = fresh_tenant(), fresh_tenant()
    job = issue(alpha, pebble, bind9, in_process=True)
    with tenant_context(alpha):
        pebbles = Certificate.objects.select_related("current_version").get(pk=job.certificate_id)
    assert pebbles.current_version is not None, "Pebble did not issue"
    with tenant_context(beta):
        others = certificate_make(f"{unique()}.example.com")  # another tenant's, which alpha must not see
    leaves = {
        (tenant.schema_name, cert.identifier): not_after_of(cert) for tenant, cert in ((alpha, pebbles), (beta, others))
    }

    settings.CERTMATE_METRICS_TOKEN = TOKEN
    response = Client(HTTP_HOST=PUBLIC_HOST).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    platform = expiries(response.content.decode())
    for key, not_after in leaves.items():
        assert platform[key] == not_after, f"{key}: the gauge is the certificate's notAfter"

    own = bearer_client(alpha, role="viewer").get("/metrics")
    assert own.status_code == 200, own.content[:300]
    mine = (alpha.schema_name, pebbles.identifier)
    assert expiries(own.content.decode()) == {mine: leaves[mine]}, "its own certificate, never another tenant's"
