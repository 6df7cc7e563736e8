"""Every wait a tenant can set is capped (fair workers): a DNS account's propagation_seconds and lego's
timing variables in `multi`, refused above the cap with a 400 naming the field, through the API, the
service and the admin alike."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS
from apps.certificates.models import DnsAccount
from tests.api.test_accounts_api import rfc2136
from tests.conftest import PASSWORD, TENANT_A
from tests.factories import TEST_ACTOR


@pytest.fixture
def admin(tenant_a, api_client):
    return api_client(tenant_a, "admin")


def dns_body(**extra) -> dict:
    return {"name": "bind", "provider": "rfc2136", "credentials": rfc2136(), **extra}


def test_propagation_is_capped_at_ten_minutes_through_the_api(admin):
    assert MAX_PROPAGATION_SECONDS == 600
    too_long = admin.post("/api/dns-accounts", dns_body(propagation_seconds=601))
    assert too_long.status_code == 400 and "propagation_seconds" in too_long.json()["fields"]
    created = admin.post("/api/dns-accounts", dns_body(propagation_seconds=600))
    assert created.status_code == 201, created.content
    changed = admin.patch(f"/api/dns-accounts/{created.json()['id']}", {"propagation_seconds": 3600})
    assert changed.status_code == 400 and "propagation_seconds" in changed.json()["fields"]


def test_propagation_is_capped_in_the_service(tenant_a):
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="use 0 to 600 seconds"):
        dns_account_create(
            actor=TEST_ACTOR, name="slow", provider="rfc2136", credentials=rfc2136(), propagation_seconds=601
        )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CLOUDFLARE_PROPAGATION_TIMEOUT", "86400"), ("CLOUDFLARE_POLLING_INTERVAL", "3600"),
     ("CLOUDFLARE_HTTP_TIMEOUT", "-1"), ("CLOUDFLARE_PROPAGATION_TIMEOUT", "1e9")],
)  # fmt: skip
def test_lego_timing_variables_are_capped(admin, variable, value):
    credentials = {"provider": "cloudflare", "CLOUDFLARE_DNS_API_TOKEN": "token-0123456789"}
    body = {"name": "lego", "provider": "multi", "credentials": {**credentials, variable: value}}
    refused = admin.post("/api/dns-accounts", body)
    assert refused.status_code == 400, refused.content
    assert "whole number of seconds" in json.dumps(refused.json())
    body["credentials"][variable] = "60"
    assert admin.post("/api/dns-accounts", body).status_code == 201


def test_the_admin_form_refuses_a_longer_wait(client, tenant_a):
    host = {"host": TENANT_A["domain"]}
    login = {"username": TENANT_A["admin_email"], "password": PASSWORD}
    assert client.post("/admin/login/", login, headers=host).status_code == 302
    form = {
        "name": "slow",
        "provider": "rfc2136",
        "propagation_seconds": "3600",
        "credentials_json": json.dumps(rfc2136()),
    }
    response = client.post("/admin/certificates/dnsaccount/add/", form, headers=host)
    assert response.status_code == 200 and "less than or equal to 600" in response.content.decode()
    with tenant_context(tenant_a):
        assert not DnsAccount.objects.filter(name="slow").exists()
