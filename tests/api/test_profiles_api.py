"""/api/cas/{ca}/profiles: everyone reads them, admins create, change and delete them; every value is
checked (a 400 naming the field), a taken name or a profile in use is a 409, and what a profile forbids
is refused through the API with the service's own message."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateProfile
from certmate.audit.models import AuditEvent
from tests.api.pki_support import field_named, hierarchy_a, hierarchy_b

__all__ = ["hierarchy_a", "hierarchy_b"]

INTERNAL = {
    "name": "internal-servers",
    "description": "Servers of the internal zone",
    "kind": "server",
    "key_usage": ["digitalSignature", "keyEncipherment"],
    "extended_key_usage": ["serverAuth"],
    "san_types": ["dns"],
    "name_patterns": {"dns": ["*.internal.example"]},
    "default_days": 90,
    "max_days": 180,
}


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def test_everyone_reads_the_default_profiles(tenant_a, hierarchy_a, api_client):
    viewer = api_client(tenant_a, "viewer")
    listed = viewer.get("/api/cas/alpha/profiles")
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()] == ["client", "server", "server-and-client"]
    server = viewer.get("/api/cas/alpha/profiles/server").json()
    assert (server["authority"], server["kind"], server["extended_key_usage"]) == ("alpha", "server", ["serverAuth"])
    assert viewer.get("/api/cas/alpha/profiles/nope").status_code == 404


def test_an_admin_creates_a_profile_and_its_rules_hold_through_the_api(tenant_a, hierarchy_a, admin, api_client):
    created = admin.post("/api/cas/alpha/profiles", INTERNAL, format="json")
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in INTERNAL} == INTERNAL
    with tenant_context(tenant_a):
        created_events = AuditEvent.objects.filter(action="certificate_profile.created")
        assert created_events.filter(object_name__contains="internal-servers").exists()

    operator = api_client(tenant_a, "operator")
    ask = {"issuer": "alpha", "profile": "internal-servers"}
    refused = operator.post("/api/certificates", {**ask, "domain": "db.other.example"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "'db.other.example': not allowed by profile 'internal-servers' (allowed: *.internal.example)",
        "code": "profile_refused",
    }
    too_long = operator.post("/api/certificates", {**ask, "domain": "db.internal.example", "days": 365}, format="json")
    assert too_long.json()["error"] == "'365 days': not allowed by profile 'internal-servers' (at most 180 days)"
    as_client = {**ask, "kind": "client", "name": "c1", "domain": "c.internal.example"}
    client_kind = operator.post("/api/certificates", as_client, format="json")
    assert client_kind.json()["code"] == "profile_refused"
    with tenant_context(tenant_a):
        assert not Certificate.objects.exists()
    issued = operator.post("/api/certificates", {**ask, "domain": "db.internal.example"}, format="json")
    assert issued.status_code == 201, issued.content
    assert (issued.json()["profile"], issued.json()["kind"]) == ("internal-servers", "server")


@pytest.mark.parametrize(("role", "expected"), [(None, 401), ("viewer", 403), ("operator", 403), ("admin", 201)])
def test_only_admins_create_profiles(tenant_a, hierarchy_a, api_client, anon_client, role, expected):
    client = api_client(tenant_a, role) if role else anon_client(tenant_a)
    assert client.post("/api/cas/alpha/profiles", INTERNAL, format="json").status_code == expected
    assert client.patch("/api/cas/alpha/profiles/client", {"max_days": 400}, format="json").status_code == (
        200 if role == "admin" else expected
    )


def test_a_taken_name_is_a_409(tenant_a, hierarchy_a, admin):
    response = admin.post("/api/cas/alpha/profiles", {**INTERNAL, "name": "server"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"error": "CA 'alpha' already has a profile named 'server'", "code": "name_taken"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "../etc"}, "name"),
        ({"name": ""}, "name"),
        ({"kind": "ca"}, "kind"),
        ({"key_usage": ["keyCertSign"]}, "key_usage.0"),
        ({"extended_key_usage": ["not-an-oid"]}, "extended_key_usage"),
        ({"extended_key_usage": "serverAuth"}, "extended_key_usage"),
        ({"san_types": ["x400"]}, "san_types.0"),
        ({"name_patterns": {"dns": ["bad pattern!!"]}}, "name_patterns"),
        ({"name_patterns": {"x400": ["a"]}}, "name_patterns"),
        ({"name_patterns": "*.internal.example"}, "name_patterns"),
        ({"name_patterns": {"ip": ["10.0.0.300/8"]}}, "name_patterns"),
        ({"key_types": ["dsa"]}, "key_types.0"),
        ({"default_key_type": "rsa1024"}, "default_key_type"),
        ({"default_days": 0}, "default_days"),
        ({"max_days": 99999}, "max_days"),
        ({"default_days": 200, "max_days": 100}, "default_days"),
        ({"allow_csr": "maybe"}, "allow_csr"),
        ({"subject_copy": ["serialNumber"]}, "subject_copy.0"),
        ({"subject_copy": ["common_name"], "subject_require": ["organization"]}, "subject_require"),
        ({"description": "x" * 201}, "description"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(tenant_a, hierarchy_a, admin, change, field):
    response = admin.post("/api/cas/alpha/profiles", {**INTERNAL, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field_named(response, field), response.json()
    patch = {k: v for k, v in change.items() if k != "name"}
    if patch:
        patched = admin.patch("/api/cas/alpha/profiles/server", patch, format="json")
        assert patched.status_code == 400 and field in patched.json()["fields"], patched.json()


@pytest.mark.parametrize("body", [[], "x", 3, None, {"name": {"a": 1}}, {"name": "p", "name_patterns": [["dns"]]}])
def test_hostile_bodies_are_refused_not_crashed_on(tenant_a, hierarchy_a, admin, body):
    assert admin.post("/api/cas/alpha/profiles", body, format="json").status_code == 400
    if body is not None:
        assert admin.patch("/api/cas/alpha/profiles/server", body, format="json").status_code in (200, 400)


def test_patch_changes_only_what_it_gives_and_keeps_the_name(tenant_a, hierarchy_a, admin):
    response = admin.patch("/api/cas/alpha/profiles/client", {"max_days": 400, "name": "renamed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["max_days"], body["default_days"]) == ("client", 400, 365)
    with tenant_context(tenant_a):
        profile = CertificateProfile.objects.get(authority__name="alpha", name="client")
        assert profile.max_days == 400 and profile.extended_key_usage == ["clientAuth"]
    refused = admin.patch("/api/cas/alpha/profiles/client", {"max_days": 30}, format="json")  # below default_days
    assert (refused.status_code, refused.json()["fields"]) == (400, {"default_days": ["must not exceed max_days"]})


def test_delete_refuses_a_profile_in_use(tenant_a, hierarchy_a, admin):
    issued = admin.post("/api/certificates", {"issuer": "alpha", "domain": "web.alpha.test"}, format="json")
    assert issued.status_code == 201, issued.content
    in_use = admin.delete("/api/cas/alpha/profiles/server")
    assert (in_use.status_code, in_use.json()["code"]) == (409, "in_use")
    assert admin.delete("/api/cas/alpha/profiles/server-and-client").status_code == 204
    assert admin.get("/api/cas/alpha/profiles/server-and-client").status_code == 404


def test_another_tenants_profiles_are_not_found(tenant_a, tenant_b, hierarchy_a, hierarchy_b, api_client):
    b_admin = api_client(tenant_b, "admin")
    beta_profiles = b_admin.get("/api/cas/beta/profiles").json()
    assert [p["name"] for p in beta_profiles] == ["client", "server", "server-and-client"]
    assert b_admin.get("/api/cas/alpha/profiles/server").status_code == 404
    assert b_admin.post("/api/cas/alpha/profiles", INTERNAL, format="json").status_code == 404
    assert b_admin.patch("/api/cas/alpha/profiles/server", {"max_days": 1}, format="json").status_code == 404
    assert b_admin.delete("/api/cas/alpha/profiles/server").status_code == 404
    with tenant_context(tenant_a):
        assert CertificateProfile.objects.get(authority__name="alpha", name="server").max_days == 825
