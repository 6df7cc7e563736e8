"""One profile, one forbidden name, every way in: the service, the API (names and a CSR), a batch and
the command all refuse it before anything is signed, in the profile's own words. (The admin's form
says the same: tests/certificates/test_admin_pki.py.)"""

from __future__ import annotations

import io

import pytest
from cryptography import x509
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateProfile, CertificateVersion
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.profile_services import profile_create
from tests.api.pki_support import hierarchy_a, make_csr
from tests.api.test_batch_api import BATCH, run_jobs
from tests.factories import TEST_ACTOR

__all__ = ["hierarchy_a", "run_jobs"]
pytestmark = pytest.mark.django_db

SAID = "'db.other.example': not allowed by profile 'internal-servers' (allowed: *.internal.example)"


@pytest.fixture
def internal_servers(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        return profile_create(authority=hierarchy_a[1], name="internal-servers", kind="server",
                              key_usage=["digitalSignature"], extended_key_usage=["serverAuth"], san_types=["dns"],
                              name_patterns={"dns": ["*.internal.example"]}, actor=TEST_ACTOR)  # fmt: skip


def _nothing_signed(tenant) -> None:
    with tenant_context(tenant):
        assert not Certificate.objects.exists() and not CertificateVersion.objects.exists()


def test_the_service(tenant_a, internal_servers):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        profile = CertificateProfile.objects.get(pk=internal_servers.pk)
        private_certificate_issue(PrivateRequest(profile=profile, kind="server", alt_names=["db.other.example"]),
                                  actor=TEST_ACTOR)  # fmt: skip
    assert refused.value.messages == [SAID]
    _nothing_signed(tenant_a)


def test_the_api_with_names_and_with_a_csr(tenant_a, internal_servers, api_client):
    operator = api_client(tenant_a, "operator")
    body = {"issuer": "alpha", "profile": "internal-servers", "kind": "server", "alt_names": ["DNS:db.other.example"]}
    refused = operator.post("/api/certificates", body, format="json")
    assert refused.status_code == 400 and refused.json()["error"].endswith(SAID), refused.content
    csr, _key = make_csr("db", [x509.DNSName("db.other.example")])
    body = {"issuer": "alpha", "profile": "internal-servers", "kind": "server", "csr": csr}
    refused = operator.post("/api/certificates", body, format="json")
    assert refused.status_code == 400 and refused.json()["error"].endswith(SAID), refused.content
    _nothing_signed(tenant_a)


def test_a_batch(tenant_a, internal_servers, api_client, run_jobs):
    operator = api_client(tenant_a, "operator")
    rows = [{"san": "DNS:db.other.example", "profile": "internal-servers", "name": "db"}]
    answer = run_jobs(operator, BATCH, {"authority": "alpha", "idempotency_key": "path", "rows": rows}, format="json")
    assert answer.status_code == 202, answer.content
    (result,) = operator.get(answer["Location"]).json()["results"]
    assert (result["status"], result["error"]) == ("failed", SAID)
    _nothing_signed(tenant_a)


def test_the_command(tenant_a, internal_servers):
    with pytest.raises(CommandError) as refused:
        call_command("pki", "issue", "--tenant", "alpha", "--ca", "alpha", "--profile", "internal-servers",
                     "--kind", "server", "--san", "DNS:db.other.example", stdout=io.StringIO())  # fmt: skip
    connection.set_schema_to_public()
    assert SAID in str(refused.value)
    _nothing_signed(tenant_a)
