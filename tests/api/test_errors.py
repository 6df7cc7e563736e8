"""One error shape everywhere, throttles that answer 429, and pagination only when asked for."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.models import CaAccount
from apps.certificates.selectors import certificate_get
from certmate.api.exceptions import ApiError, error_body
from certmate.errors import NotFound
from tests.factories import TEST_ACTOR


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/nothing-here", None, 404, "not_found"),
        ("get", "/api/ca-accounts/999999", None, 404, "not_found"),
        ("get", "/api/ca-accounts/not-a-number", None, 404, "not_found"),
        ("put", "/api/settings", {}, 405, "method_not_allowed"),
        ("post", "/api/ca-accounts", {"name": ""}, 400, "invalid"),
        ("patch", "/api/settings", {"renewal_threshold_days": 0}, 400, "min_value"),
    ],
)
def test_errors_have_one_shape(tenant_a, api_client, method, path, body, status, code):
    response = getattr(api_client(tenant_a, "admin"), method)(path, body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) <= {"error", "code", "fields"}
    assert response.json()["code"] == code
    assert response.json()["error"]


def test_invalid_input_names_each_field(tenant_a, api_client):
    response = api_client(tenant_a, "admin").post("/api/ca-accounts", {"name": "", "email": "nope"})
    assert response.json() == {
        "error": "name: This field may not be blank.; directory_url: This field is required.; "
        "email: Enter a valid email address.",
        "code": "invalid",
        "fields": {
            "name": ["This field may not be blank."],
            "directory_url": ["This field is required."],
            "email": ["Enter a valid email address."],
        },
    }


def test_malformed_json_and_other_media_types_are_refused(tenant_a, api_client):
    client = api_client(tenant_a, "admin")
    broken = client.generic("POST", "/api/ca-accounts", "{not json", content_type="application/json")
    assert (broken.status_code, broken.json()["code"]) == (400, "parse_error")
    form = client.post("/api/ca-accounts", {"name": "x"}, format="multipart")
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")


def test_api_error_and_nested_fields():
    conflict = ApiError("job 3 is running", "job_open")
    assert conflict.status_code == 409  # the status follows from the code, in one table
    assert error_body(conflict) == {"error": "job 3 is running", "code": "job_open"}
    assert ApiError("bad", "no_such_code").status_code == 400
    from rest_framework.exceptions import ValidationError

    nested = ValidationError({"credentials": {"tsig_secret": ["too long"]}, "non_field_errors": ["both given"]})
    assert error_body(nested) == {
        "error": "credentials.tsig_secret: too long; both given",
        "code": "invalid",
        "fields": {"credentials.tsig_secret": ["too long"]},
    }


def test_a_token_over_its_rate_gets_429_and_others_do_not(tenant_a, api_client, settings):
    settings.CERTMATE_API_RATE_USER = "3/min"
    busy, calm = api_client(tenant_a, "viewer"), api_client(tenant_a, "viewer")
    assert [busy.get("/api/settings").status_code for _ in range(3)] == [200, 200, 200]
    throttled = busy.get("/api/settings")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert calm.get("/api/settings").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer cm_guessed-token"])
def test_refused_credentials_count_against_the_address_too(tenant_a, anon_client, settings, authorization):
    settings.CERTMATE_API_RATE_ANON = "2/min"
    client = anon_client(tenant_a)
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    statuses = [client.get("/api/certificates", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(3)]
    assert statuses == [401, 401, 429]  # and a forged X-Forwarded-For does not buy a fresh budget


def test_anonymous_clients_are_throttled_by_address(tenant_a, anon_client, settings):
    settings.CERTMATE_API_RATE_ANON = "2/min"
    client = anon_client(tenant_a)
    assert [client.get("/api/docs/").status_code for _ in range(3)] == [200, 200, 429]


def test_lists_come_whole_unless_paged(tenant_a, api_client):
    with tenant_context(tenant_a):
        for name in ("a", "b", "c"):
            ca_account_create(actor=TEST_ACTOR, name=name, directory="letsencrypt", email="pki@alpha.test")
    client = api_client(tenant_a, "viewer")
    assert [row["name"] for row in client.get("/api/ca-accounts").json()] == ["a", "b", "c"]

    first = client.get("/api/ca-accounts", {"limit": 2}).json()
    assert (first["count"], [row["name"] for row in first["results"]], first["previous"]) == (3, ["a", "b"], None)
    assert first["next"].endswith("limit=2&offset=2")
    assert [row["name"] for row in client.get("/api/ca-accounts", {"offset": 2}).json()["results"]] == ["c"]
    page = client.get("/api/ca-accounts", {"page": 2, "page_size": 2}).json()
    assert (page["count"], [row["name"] for row in page["results"]]) == (3, ["c"])
    assert client.get("/api/ca-accounts", {"page": 9}).status_code == 404


def test_pages_hold_at_most_500_rows(tenant_a, api_client):
    with tenant_context(tenant_a):
        CaAccount.objects.bulk_create(
            CaAccount(name=f"ca-{n:03}", directory_url="https://ca.test/dir", email="pki@alpha.test")
            for n in range(501)
        )
    client = api_client(tenant_a, "viewer")
    assert len(client.get("/api/ca-accounts").json()) == 501
    for params in ({"limit": 100000}, {"page": 1, "page_size": 100000}):
        page = client.get("/api/ca-accounts", params).json()
        assert (page["count"], len(page["results"])) == (501, 500)


def test_rates_from_the_environment_are_checked_at_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from certmate.settings.base import api_rate

    monkeypatch.setenv("CERTMATE_API_RATE_USER", "30/hour")
    assert api_rate("CERTMATE_API_RATE_USER", "1200/min") == "30/hour"
    monkeypatch.setenv("CERTMATE_API_RATE_USER", "fast")
    with pytest.raises(ImproperlyConfigured, match="CERTMATE_API_RATE_USER='fast' is not a rate"):
        api_rate("CERTMATE_API_RATE_USER", "1200/min")


def test_a_selector_names_what_it_did_not_find_and_the_api_answers_a_plain_404(tenant_a, api_client):
    with tenant_context(tenant_a), pytest.raises(NotFound, match=r"no certificate for missing\.alpha\.test"):
        certificate_get(domain="missing.alpha.test")
    response = api_client(tenant_a, "viewer").get("/api/certificates/missing.alpha.test")
    assert response.status_code == 404
    assert response.json() == {"error": "not found: no such object here", "code": "not_found"}
