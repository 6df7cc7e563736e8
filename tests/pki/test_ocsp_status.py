"""CertMate's ``GET /api/ocsp/status/<serial>``: the default CA's word on a decimal serial in CertMate's
JSON shape, without credentials; bounded serials; one tenant's serials unknown at another."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.services.tokens import token_create
from apps.accounts.services.users import user_create
from apps.certificates.models import CertificateProfile, CertificateVersion
from apps.certificates.pki.authorities import ca_default_set
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from certmate.actors import Actor
from tests.conftest import PASSWORD, TENANT_A, TENANT_B
from tests.factories import TEST_ACTOR

KEYS = {"response_status", "certificate_status", "certificate_serial", "this_update", "next_update", "responder_name"}


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def client_for(host: str) -> APIClient:
    client = APIClient()
    client.defaults["HTTP_HOST"] = host
    return client


def issued_serial(tenant, authority, name: str) -> tuple[CertificateVersion, int]:
    with tenant_context(tenant):
        profile = CertificateProfile.objects.get(authority=authority, name="client")
        request = PrivateRequest(profile=profile, name=name, subject={"common_name": name})
        certificate = private_certificate_issue(request, actor=TEST_ACTOR)
        version = certificate.current_version
    return version, int(version.serial, 16)


@pytest.fixture
def defaults(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    """Both tenants' intermediates as their default CA."""
    for tenant, (_, ca) in ((tenant_a, hierarchy_a), (tenant_b, hierarchy_b)):
        with tenant_context(tenant):
            ca_default_set(authority=ca, actor=TEST_ACTOR)
    return hierarchy_a[1], hierarchy_b[1]


def test_good_revoked_and_unknown_in_certmates_shape_without_credentials(tenant_a, defaults):
    alpha, _ = defaults
    _, good = issued_serial(tenant_a, alpha, "alice")
    revoked_version, revoked = issued_serial(tenant_a, alpha, "bob")
    with tenant_context(tenant_a):
        CertificateVersion.objects.filter(pk=revoked_version.pk).update(
            revoked_at=timezone.now(), revocation_reason="keycompromise"
        )
    client = client_for(TENANT_A["domain"])
    body = client.get(f"/api/ocsp/status/{good}").json()
    assert set(body) == KEYS
    assert body["certificate_status"] == "good" and body["certificate_serial"] == good
    assert body["response_status"] == "successful" and body["next_update"] is None
    assert body["responder_name"] == "CertMate OCSP Responder"
    body = client.get(f"/api/ocsp/status/{revoked}").json()
    assert body["certificate_status"] == "revoked" and body["revocation_reason"] == "keycompromise"
    assert body["revocation_time"].startswith(str(timezone.now().year))
    assert set(body) == KEYS | {"revocation_time", "revocation_reason"}
    assert client.get("/api/ocsp/status/12345").json()["certificate_status"] == "unknown"


def test_another_tenants_serial_is_unknown_here(tenant_a, tenant_b, defaults):
    _, beta = defaults
    version, serial = issued_serial(tenant_b, beta, "carol")
    with tenant_context(tenant_b):
        revoked = {"revoked_at": timezone.now(), "revocation_reason": "superseded"}
        CertificateVersion.objects.filter(pk=version.pk).update(**revoked)
    assert client_for(TENANT_B["domain"]).get(f"/api/ocsp/status/{serial}").json()["certificate_status"] == "revoked"
    assert client_for(TENANT_A["domain"]).get(f"/api/ocsp/status/{serial}").json()["certificate_status"] == "unknown"


def test_a_tenant_without_a_default_ca_knows_no_serial(tenant_a, hierarchy_a):
    _, serial = issued_serial(tenant_a, hierarchy_a[1], "dave")
    response = client_for(TENANT_A["domain"]).get(f"/api/ocsp/status/{serial}")
    assert response.status_code == 200 and response.json()["certificate_status"] == "unknown"


@pytest.mark.parametrize(
    ("serial", "status"),
    [
        (str(2**160), 200),
        (str(2**160 + 1), 400),
        ("9" * 61, 400),
        ("9" * 5000, 400),
        ("-1", 404),
        ("abc", 404),
        ("1e5", 404),
        ("\u0661\u0662", 404),  # Arabic-Indic digits: not a decimal serial here
        ("12%00", 404),
    ],
)
def test_serials_are_bounded_decimals(tenant_a, defaults, serial, status):
    response = client_for(TENANT_A["domain"]).get(f"/api/ocsp/status/{serial}")
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json() == {"error": "Serial number out of valid range", "code": "invalid_serial"}


def test_a_token_counts_only_on_its_own_tenant(tenant_a, tenant_b, defaults):
    with tenant_context(tenant_a):
        user = user_create(email="viewer@alpha.test", password=PASSWORD, role="viewer", actor=Actor.command())
        _, raw = token_create(user=user, role="viewer", name="t", actor=Actor.command())
    for host, expected in ((TENANT_A["domain"], 200), (TENANT_B["domain"], 401)):
        client = client_for(host)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/ocsp/status/5").status_code == expected
