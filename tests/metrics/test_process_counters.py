"""Counters of what leaves no row (OCSP answers, CRL downloads, ACME and DNS errors): counted by whichever
process served or worked, summed over all of them at scrape time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from apps.certificates.acme.failures import failure_type
from tests.api.conftest import anon_client  # noqa: F401 - fixture
from tests.api.pki_support import hierarchy_a
from tests.conftest import PUBLIC_HOST
from tests.metrics.test_metrics import TOKEN, parsed, samples_of

__all__ = ["hierarchy_a"]
ROOT = Path(__file__).resolve().parents[2]
# Another process, as a worker is: counts one DNS error for alpha (no database needed to count).
COUNT_ELSEWHERE = (
    "import django; django.setup(); from django.db import connection; connection.set_schema('alpha'); "
    "from certmate.metrics import DNS_ERRORS, count; count(DNS_ERRORS, type='not_propagated')"
)


def counter(client, family: str, **labels) -> float:
    with override_settings(CERTMATE_METRICS_TOKEN=TOKEN):
        page = client.get("/metrics", headers={"host": PUBLIC_HOST, "authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    return sum(s.value for s in samples_of(parsed(page.content.decode()), family, **labels))


def test_crl_downloads_and_ocsp_answers_are_counted_per_tenant(tenant_a, hierarchy_a, anon_client, client):  # noqa: F811
    before = {code: counter(client, "certmate_crl_requests", tenant="alpha", code=code) for code in ("200", "304")}
    malformed = counter(client, "certmate_ocsp_requests", tenant="alpha", result="malformed_request")
    beta = counter(client, "certmate_crl_requests", tenant="beta")  # earlier tests in this process count too
    anonymous = anon_client(tenant_a)
    crl = anonymous.get("/pki/alpha/crl.der")
    assert anonymous.get("/pki/alpha/crl.der", HTTP_IF_NONE_MATCH=crl["ETag"]).status_code == 304
    assert anonymous.post("/pki/ocsp", b"not DER", content_type="application/ocsp-request").status_code == 200
    assert counter(client, "certmate_crl_requests", tenant="alpha", code="200") == before["200"] + 1
    assert counter(client, "certmate_crl_requests", tenant="alpha", code="304") == before["304"] + 1
    assert counter(client, "certmate_ocsp_requests", tenant="alpha", result="malformed_request") == malformed + 1
    assert counter(client, "certmate_crl_requests", tenant="beta") == beta  # alpha's requests are alpha's


def test_counts_of_another_process_are_in_the_scrape(db, client):
    before = counter(client, "certmate_dns_errors", tenant="alpha", type="not_propagated")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "certmate.settings.test"}
    subprocess.run([sys.executable, "-c", COUNT_ELSEWHERE], cwd=ROOT, env=env, check=True, timeout=120)
    assert counter(client, "certmate_dns_errors", tenant="alpha", type="not_propagated") == before + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Incorrect TXT record "abc" found at _acme-challenge.example.com', ("dns", "not_propagated")),
        ("dns.tsig.PeerBadSignature: the DNS server didn't like the signature we sent", ("dns", "tsig_refused")),
        ("urn:ietf:params:acme:error:rateLimited :: too many certificates already issued", ("acme", "rate_limited")),
        ("urn:ietf:params:acme:error:badNonce :: JWS has an invalid anti-replay nonce", ("acme", "bad_nonce")),
        ("CAA record for example.com prevents issuance", ("acme", "caa")),
        ("certbot did not finish within 1800 seconds", ("acme", "timeout")),
        ("something nobody has seen", ("acme", "other")),
    ],
)
def test_certbot_failures_are_typed(text, expected):
    assert failure_type(text) == expected
