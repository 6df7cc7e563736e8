"""/.well-known/acme-challenge/<token> through the whole middleware stack, on names that are no tenant's
host: the key authorization for exactly the name it was published for, while it is unexpired; 404 for
anything else, without a query for what cannot be a token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import HttpChallenge
from apps.certificates.acme.http01 import http_challenges_expire
from apps.certificates.tasks import events_sweep_all_task
from tests.conftest import TENANT_A

TOKEN_A = "tokenA_" + "a" * 36
TOKEN_B = "tokenB-" + "b" * 36


def publish(tenant, token: str, domain: str, *, seconds: int = 600) -> HttpChallenge:
    return HttpChallenge.objects.create(
        tenant=tenant, token=token, key_authorization=f"{token}.{'t' * 43}", domain=domain,
        expires_at=timezone.now() + timedelta(seconds=seconds),
    )  # fmt: skip


def ask(host: str, token: str, method: str = "get"):
    return getattr(Client(), method)(f"/.well-known/acme-challenge/{token}", HTTP_HOST=host)


@pytest.fixture
def published(tenant_a, tenant_b):
    publish(tenant_a, TOKEN_A, "www.alpha-shop.example")
    publish(tenant_b, TOKEN_B, "www.beta-shop.example")


def test_the_key_authorization_is_answered_on_its_name_whatever_the_port_and_case(published):
    for host in ("www.alpha-shop.example", "WWW.Alpha-Shop.example:5002", "www.alpha-shop.example."):
        response = ask(host, TOKEN_A)
        assert response.status_code == 200, host
        assert response.content.decode() == f"{TOKEN_A}.{'t' * 43}"
        assert response["Content-Type"].startswith("text/plain")
    head = ask("www.alpha-shop.example", TOKEN_A, "head")
    assert head.status_code == 200 and head.content == b""


def test_each_tenants_token_is_answered_on_its_own_name_only(published):
    assert ask("www.beta-shop.example", TOKEN_B).status_code == 200
    assert ask("www.alpha-shop.example", TOKEN_B).status_code == 404
    assert ask("www.beta-shop.example", TOKEN_A).status_code == 404
    assert ask(TENANT_A["domain"], TOKEN_A).status_code == 404, "a tenant's host is no certificate's name"


def test_an_expired_challenge_is_not_answered_and_housekeeping_removes_it(tenant_a):
    publish(tenant_a, TOKEN_A, "old.alpha-shop.example", seconds=-1)
    publish(tenant_a, TOKEN_B, "new.alpha-shop.example")
    assert ask("old.alpha-shop.example", TOKEN_A).status_code == 404
    events_sweep_all_task()  # beat's minute pass
    assert list(HttpChallenge.objects.values_list("token", flat=True)) == [TOKEN_B]
    assert http_challenges_expire() == 0


@pytest.mark.parametrize(
    "path_token",
    ["", "x" * 129, "..%2f..%2fetc", "a b", "tok/en", "t%00"],
    ids=["empty", "long", "dots", "space", "slash", "nul"],
)
def test_what_cannot_be_a_token_is_404_without_a_query(published, django_assert_num_queries, path_token):
    with django_assert_num_queries(0):
        assert ask("www.alpha-shop.example", path_token).status_code == 404


def test_a_host_header_that_is_no_name_is_404(published, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert ask("www.alpha-shop.example/evil", TOKEN_A).status_code == 404
        assert ask("a" * 300 + ".example", TOKEN_A).status_code == 404


def test_only_get_and_head(published):
    response = Client().post(f"/.well-known/acme-challenge/{TOKEN_A}", HTTP_HOST="www.alpha-shop.example")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_tenants_own_host_is_answered_before_the_tenant_middleware(tenant_a):
    publish(tenant_a, TOKEN_A, TENANT_A["domain"])
    response = ask(TENANT_A["domain"], TOKEN_A)
    assert response.status_code == 200 and response.content.decode().startswith(TOKEN_A)
    assert ask(TENANT_A["domain"], TOKEN_B).status_code == 404
