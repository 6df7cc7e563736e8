"""Token scopes (CertMate's allowed_domains): a token limited to some certificates sees and acts on those
alone, on every certificate endpoint (the others answer as if they did not exist), can reach nothing
that is not a certificate endpoint, and never makes a token wider than itself."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken
from apps.accounts.scopes import CertificateScope, allowed_domains_clean
from apps.accounts.services.tokens import token_create
from apps.certificates.models import Job
from certmate.actors import Actor
from tests.api.conftest import tenant_client
from tests.api.test_certificates_access import DOMAIN, NAMING
from tests.factories import accounts, certificate_make

OTHER = "db.alpha.test"


def scoped_client(tenant, api_user, scope: list[str], role: str = "operator"):
    user = api_user(tenant, role)
    with tenant_context(tenant):
        token, raw = token_create(user=user, role=role, allowed_domains=scope, actor=Actor.command())
    client = tenant_client(tenant)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.user, client.token = user, token
    return client


@pytest.fixture
def two_certificates(tenant_a):
    """www.alpha.test and db.alpha.test; the ids of the jobs that issued them."""
    with tenant_context(tenant_a):
        accounts()
        mine, other = certificate_make(DOMAIN), certificate_make(OTHER)
        return Job.objects.get(certificate=mine).pk, Job.objects.get(certificate=other).pk


@pytest.mark.parametrize(
    ("scope", "name", "allowed"),
    [
        (["www.alpha.test"], "www.alpha.test", True),
        (["www.alpha.test"], "db.alpha.test", False),
        (["*.alpha.test"], "www.alpha.test", True),
        (["*.alpha.test"], "a.b.alpha.test", True),
        (["*.alpha.test"], "alpha.test", False),
        (["*.alpha.test"], "*.alpha.test", True),
        (["*.alpha.test"], "evilalpha.test", False),
        (["alpha.test"], "*.alpha.test", False),  # a wildcard certificate only by its very pattern
        (["*.b.alpha.test"], "*.alpha.test", False),
    ],
)
def test_scope_matching(scope, name, allowed):
    assert CertificateScope(tuple(scope)).allows(name) is allowed


@pytest.mark.parametrize(
    "bad", [["localhost"], ["*.com"], ["exa mple.com"], ["*"], ["*.*.example.com"], ["x" * 300 + ".com"], "a.com", [7]]
)
def test_bad_scopes_are_refused(bad):
    with pytest.raises(Exception, match="allowed_domains"):
        allowed_domains_clean(bad)


def test_scopes_are_normalised_and_bounded():
    assert allowed_domains_clean([" WWW.Example.com ", "www.example.com", "", "*.example.com"]) == [
        "www.example.com",
        "*.example.com",
    ]
    with pytest.raises(Exception, match="100 entries at most"):
        allowed_domains_clean([f"h{n}.example.com" for n in range(101)])


def test_a_scoped_token_lists_only_its_certificates(tenant_a, tenant_b, api_user, two_certificates):
    mine_job, other_job = two_certificates
    client = scoped_client(tenant_a, api_user, [DOMAIN])
    listed = client.get("/api/certificates").json()
    assert [row["domain"] for row in listed["certificates"]] == [DOMAIN] and listed["count"] == 1
    jobs = client.get("/api/certificates/jobs").json()
    assert {job["job_id"] for job in jobs["jobs"]} == {mine_job}
    assert client.get(f"/api/certificates/jobs/{other_job}").status_code == 404
    assert client.get(f"/api/certificates/jobs/{mine_job}").status_code == 200
    # The unscoped admin of the same tenant sees both; tenant B's scoped token with the same name sees none.
    assert api_client_count(tenant_a, api_user) == 2
    assert scoped_client(tenant_b, api_user, [DOMAIN], role="viewer").get("/api/certificates").json()["count"] == 0


def api_client_count(tenant, api_user) -> int:
    return scoped_client(tenant, api_user, []).get("/api/certificates").json()["count"]


@pytest.mark.parametrize("endpoint", NAMING, ids=str)
def test_every_certificate_endpoint_hides_what_is_out_of_scope(tenant_a, api_user, two_certificates, endpoint):
    _, other_job = two_certificates
    client = scoped_client(tenant_a, api_user, [DOMAIN])
    response = endpoint.call(client, job_id=other_job, domain=OTHER)
    assert response.status_code == 404, response.content[:300]
    assert response.json()["code"] == "not_found" and OTHER not in response.json()["error"]


@pytest.mark.parametrize("endpoint", NAMING, ids=str)
def test_every_certificate_endpoint_serves_what_is_in_scope(tenant_a, api_user, two_certificates, endpoint):
    mine_job, _ = two_certificates
    client = scoped_client(tenant_a, api_user, ["*.alpha.test"])
    response = endpoint.call(client, job_id=mine_job)
    assert response.status_code == endpoint.status, response.content[:300]


@pytest.mark.parametrize("path", ["/api/certificates", "/api/certificates/create"])
def test_a_scoped_token_creates_only_inside_its_scope(tenant_a, api_user, path):
    with tenant_context(tenant_a):
        accounts()
    client = scoped_client(tenant_a, api_user, ["*.alpha.test"])
    outside = client.post(path, {"domain": "www.beta.test", "async": True}, format="json")
    assert outside.status_code == 403 and outside.json()["code"] == "domain_out_of_scope"
    san_outside = client.post(
        path, {"domain": "x.alpha.test", "san_domains": ["x.beta.test"], "async": True}, format="json"
    )
    assert san_outside.status_code == 403 and "x.beta.test" in san_outside.json()["error"]
    wildcard = client.post(path, {"domain": "*.alpha.test", "async": True}, format="json")
    assert wildcard.status_code == 202
    inside = client.post(path, {"domain": "new.alpha.test", "async": True}, format="json")
    assert inside.status_code == 202


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/settings"),
        ("PATCH", "/api/settings"),
        ("GET", "/api/storage"),
        ("GET", "/api/users"),
        ("GET", "/api/dns-accounts"),
        ("GET", "/api/ca-accounts"),
        ("GET", "/api/audit"),
        ("GET", "/api/activity"),
        ("GET", "/api/cas"),
        ("POST", "/api/certificates/batch"),
        ("POST", "/api/client-certs/create"),
        ("POST", "/api/client-certs/batch"),
    ],
)
def test_a_scoped_token_reaches_nothing_else(tenant_a, api_user, method, path):
    client = scoped_client(tenant_a, api_user, [DOMAIN])
    response = getattr(client, method.lower())(path, {}, format="json")
    assert response.status_code == 403, response.content[:300]
    assert "limited to the certificates www.alpha.test" in response.json()["error"]


def test_a_scoped_token_never_widens_itself(tenant_a, api_user):
    client = scoped_client(tenant_a, api_user, ["*.alpha.test"])
    # Not an admin (no scoped token is): it reaches no token, key, user or settings endpoint.
    for path in ("/api/tokens", "/api/keys", "/api/users", "/api/settings"):
        response = client.post(path, {"role": "viewer", "name": "x"}, format="json")
        assert response.status_code == 403, path
    scope = CertificateScope(("*.alpha.test",))
    user = client.user
    with tenant_context(tenant_a):
        for wider in ([], ["beta.test"], ["*.beta.test"], ["alpha.test"], ["*.alpha.test", "www.beta.test"]):
            with pytest.raises(ValidationError) as refused:
                token_create(user=user, role="viewer", allowed_domains=wider, within=scope, actor=Actor.command())
            assert refused.value.code == "scope_wider", wider
        narrower, _ = token_create(
            user=user, role="viewer", allowed_domains=["*.db.alpha.test"], within=scope, actor=Actor.command()
        )
        assert narrower.allowed_domains == ["*.db.alpha.test"]
        assert ApiToken.objects.get(pk=client.token.pk).allowed_domains == ["*.alpha.test"]


def test_an_admin_token_cannot_be_scoped(tenant_a, api_user, api_client):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as refused:
        token_create(
            user=api_user(tenant_a, "admin"), role="admin", allowed_domains=["x.alpha.test"], actor=Actor.command()
        )
    assert refused.value.code == "scoped_admin"
    response = api_client(tenant_a, "admin").post(
        "/api/tokens", {"role": "admin", "allowed_domains": ["x.alpha.test"]}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "scoped_admin"


def test_an_unscoped_admin_makes_scoped_tokens_and_bad_scopes_are_400(tenant_a, api_client):
    admin = api_client(tenant_a, "admin")
    made = admin.post("/api/tokens", {"role": "viewer", "allowed_domains": ["WWW.alpha.test"]}, format="json")
    assert made.status_code == 201 and made.json()["allowed_domains"] == ["www.alpha.test"]
    bad = admin.post("/api/tokens", {"role": "viewer", "allowed_domains": ["not a name"]}, format="json")
    assert bad.status_code == 400 and "allowed_domains" in bad.json()["fields"]
    too_many = admin.post(
        "/api/tokens", {"role": "viewer", "allowed_domains": [f"h{n}.alpha.test" for n in range(101)]}, format="json"
    )
    assert too_many.status_code == 400


def test_client_certificates_follow_the_scope(tenant_a, api_client, api_user):
    operator = api_client(tenant_a, "operator")
    other = operator.post("/api/client-certs/create", {"common_name": "Alice Smith"}, format="json").json()
    named = operator.post(
        "/api/certificates",
        {"issuer": "default", "kind": "client", "name": "dev.alpha.test", "subject": {"common_name": "dev"}},
        format="json",
    )
    assert named.status_code == 201, named.content
    client = scoped_client(tenant_a, api_user, ["*.alpha.test"])
    listed = client.get("/api/client-certs").json()
    assert [row["identifier"] for row in listed["certificates"]] == ["dev.alpha.test"] and listed["total"] == 1
    assert client.get("/api/client-certs/stats").json()["total"] == 1
    assert client.get("/api/client-certs/dev.alpha.test").status_code == 200
    assert client.get("/api/client-certs/dev.alpha.test/download/crt").status_code == 200
    for path in ("", "/download/crt"):
        assert client.get(f"/api/client-certs/{other['identifier']}{path}").status_code == 404
    assert client.post(f"/api/client-certs/{other['identifier']}/renew", {}, format="json").status_code == 404
    assert client.get(f"/api/certificates/{other['identifier']}?kind=client").status_code == 404
    assert operator.get("/api/client-certs").json()["total"] == 2  # the unscoped token sees both
