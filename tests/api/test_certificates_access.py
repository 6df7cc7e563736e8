"""Who may do what with certificates: every endpoint by anonymous, viewer, operator, admin, and two
tenants that cannot see each other (another tenant's token is unknown here: 401; another tenant's
certificates and jobs do not exist here: 404, never 403)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.certificates.models import Job
from tests.api.conftest import tenant_client
from tests.factories import accounts, certificate_make

DOMAIN = "www.alpha.test"
NEW = {"domain": "new.alpha.test", "async": True}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    role: Role  # the least role allowed
    status: int  # its answer when allowed
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}{' ' + str(self.body) if self.body else ''}"

    def call(self, client, *, job_id: int, domain: str = DOMAIN):
        path = self.path.format(domain=domain, job=job_id)
        send = getattr(client, self.method.lower())
        return send(path) if self.body is None else send(path, self.body, format="json")


VIEWER, OPERATOR = Role.VIEWER, Role.OPERATOR
C = "/api/certificates/{domain}"
ENDPOINTS = [
    Endpoint("GET", "/api/certificates", VIEWER, 200),
    Endpoint("GET", "/api/certificates?limit=1", VIEWER, 200),
    Endpoint("POST", "/api/certificates", OPERATOR, 202, NEW),
    Endpoint("POST", "/api/certificates/create", OPERATOR, 202, NEW),
    Endpoint("GET", "/api/certificates/jobs", VIEWER, 200),
    Endpoint("GET", "/api/certificates/jobs/{job}", VIEWER, 200),
    Endpoint("GET", C, VIEWER, 200),
    Endpoint("PATCH", C, OPERATOR, 200, {"auto_renew": False}),
    Endpoint("DELETE", C, OPERATOR, 200),
    Endpoint("POST", C + "/renew", OPERATOR, 202, {"force": True}),
    Endpoint("PUT", C + "/auto-renew", OPERATOR, 200, {"enabled": False}),
    Endpoint("GET", C + "/versions", VIEWER, 200),
    Endpoint("GET", C + "/download", OPERATOR, 200),
    Endpoint("GET", C + "/download?format=json", OPERATOR, 200),
    Endpoint("GET", C + "/download?format=zip&include_private=false", VIEWER, 200),
    Endpoint("GET", C + "/download?file=cert.pem", VIEWER, 200),
    Endpoint("GET", C + "/download?file=chain.pem", VIEWER, 200),
    Endpoint("GET", C + "/download?file=fullchain.pem", VIEWER, 200),
    Endpoint("GET", C + "/download?file=privkey.pem", OPERATOR, 200),
    Endpoint("GET", C + "/download?file=privkey.pem&key_format=pkcs1", OPERATOR, 200),
    Endpoint("GET", C + "/download?file=combined.pem", OPERATOR, 200),
    Endpoint("GET", C + "/download?file=cert.pfx", OPERATOR, 400),  # no password: never an unencrypted PKCS#12
    Endpoint("POST", C + "/download", OPERATOR, 200, {"file": "cert.pfx", "password": "s3cret", "legacy": True}),
    Endpoint("GET", C + "/download?file=cert.der", VIEWER, 200),
    Endpoint("GET", C + "/download?file=ca.pem", VIEWER, 200),
    Endpoint("GET", C + "/download/der", VIEWER, 200),
    Endpoint("GET", C + "/download/ca", VIEWER, 200),
    Endpoint("POST", C + "/download", OPERATOR, 200, {"file": "cert.pfx", "password": "s3cret"}),
    Endpoint("POST", C + "/download", VIEWER, 200, {"file": "fullchain.pem"}),
    Endpoint("POST", C + "/download", OPERATOR, 200, {"format": "json"}),
    Endpoint("GET", C + "/download/fullchain", VIEWER, 200),
    Endpoint("GET", C + "/download/cert", VIEWER, 200),
    Endpoint("GET", C + "/download/privkey", OPERATOR, 200),
    Endpoint("GET", C + "/download/combined", OPERATOR, 200),
    Endpoint("GET", "/{domain}/tls", VIEWER, 200),
]
# Paths that name an object (a domain or a job): another tenant's are 404 here.
NAMING = [endpoint for endpoint in ENDPOINTS if "{" in endpoint.path]


@pytest.fixture
def issued(tenant_a):
    """www.alpha.test with one version; the id of the job that issued it."""
    with tenant_context(tenant_a):
        accounts()
        certificate = certificate_make(DOMAIN)
        return Job.objects.get(certificate=certificate).pk


@pytest.mark.parametrize("role", ["anonymous", "viewer", "operator", "admin"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_role_matrix(tenant_a, api_client, anon_client, issued, endpoint, role):
    client = anon_client(tenant_a) if role == "anonymous" else api_client(tenant_a, role)
    response = endpoint.call(client, job_id=issued)
    allowed = role != "anonymous" and Role(role).rank >= endpoint.role.rank
    expected = 401 if role == "anonymous" else endpoint.status if allowed else 403
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        assert set(response.json()) >= {"error", "code"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_token_of_another_tenant_is_unknown_here(tenant_a, tenant_b, api_client, issued, endpoint):
    client_of_a = api_client(tenant_a, "admin")
    on_b = tenant_client(tenant_b)
    on_b.credentials(HTTP_AUTHORIZATION=f"Bearer {client_of_a.raw_token}")
    response = endpoint.call(on_b, job_id=issued)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("endpoint", NAMING, ids=str)
def test_another_tenants_certificates_and_jobs_do_not_exist_here(tenant_a, tenant_b, api_client, issued, endpoint):
    admin_of_b = api_client(tenant_b, "admin")
    with tenant_context(tenant_b):
        accounts()
        assert not Job.objects.filter(pk=issued).exists()
    response = endpoint.call(admin_of_b, job_id=issued)
    assert response.status_code == 404, response.content[:300]
    assert response.json()["code"] == "not_found" and DOMAIN not in response.json()["error"]


def test_the_same_domain_in_two_tenants_is_two_certificates(tenant_a, tenant_b, api_client):
    with tenant_context(tenant_a):
        in_a = certificate_make(DOMAIN)
    with tenant_context(tenant_b):
        in_b = certificate_make(DOMAIN)
    seen_by_a = api_client(tenant_a, "operator").get(f"/api/certificates/{DOMAIN}/download?format=json").json()
    seen_by_b = api_client(tenant_b, "operator").get(f"/api/certificates/{DOMAIN}/download?format=json").json()
    assert seen_by_a["cert_pem"] == in_a.current_version.certificate_pem
    assert seen_by_b["cert_pem"] == in_b.current_version.certificate_pem
    assert seen_by_a["private_key_pem"] != seen_by_b["private_key_pem"]
    listed = api_client(tenant_b, "viewer").get("/api/certificates").json()
    assert [row["serial"] for row in listed["certificates"]] == [in_b.current_version.serial]


@pytest.mark.parametrize("path", sorted({endpoint.path.split("?")[0] for endpoint in ENDPOINTS}))
def test_options_describe_every_endpoint_to_a_viewer(tenant_a, api_client, issued, path):
    response = api_client(tenant_a, "viewer").options(path.format(domain=DOMAIN, job=issued))
    assert response.status_code == 200 and response.json()["renders"] == ["application/json"]
