"""Which failures an issuer fallback goes past: certbot 5.8's own output (recorded against Pebble, a front
answering for Pebble as Let's Encrypt does when it limits or refuses, and BIND9), with the line runner.py
adds from certbot's debug log. A CA that could not be reached, limited the rate, failed inside or refused
by policy falls back; a DNS, validation or configuration failure never does, whatever words it carries."""

from __future__ import annotations

import os
import time

import pytest

from apps.certificates.acme.answers import MAX_LOG_BYTES, last_answer
from apps.certificates.acme.failures import (
    POLICY,
    RATE_LIMITED,
    SERVER_ERROR,
    UNREACHABLE,
    fallback_class,
    is_transient,
)

CA = "https://127.0.0.1:52965/dir"
LE = "https://acme-v02.api.letsencrypt.org/directory"
PROXY_502 = (
    "requests.exceptions.ProxyError: HTTPSConnectionPool(host='127.0.0.1', port=52965): Max retries exceeded with url: "
    "/dir (Caused by ProxyError('Unable to connect to proxy', OSError('Tunnel connection failed: 502 127.0.0.1: could "
    "not connect')))"
)
# A stopped CA: before its account was registered, and after.
REGISTRATION_REFUSED = f"""registering the ACME account at {CA} failed: {PROXY_502}
An unexpected error occurred:
{PROXY_502}"""
ORDER_REFUSED = f"""{PROXY_502}
An unexpected error occurred:
{PROXY_502}"""
# A CA that never answers, reached without the egress proxy (requests' own words).
READ_TIMEOUT = """An unexpected error occurred:
requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='acme-v02.api.letsencrypt.org', port=443): Read timed out. \
(read timeout=45)"""
CONNECTION_RESET = """An unexpected error occurred:
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='acme-v02.api.letsencrypt.org', port=443): Max retries \
exceeded with url: /directory (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at \
0x7f3a2c1d9e50>: Failed to establish a new connection: [Errno 104] Connection reset by peer'))"""
RATE_LIMITED_ORDER = """Requesting a certificate for t5ce807a69a.certmate.test
An unexpected error occurred:
Error creating new order :: too many certificates (5) already issued for this exact set of identifiers in the last \
168h0m0s, retry after 2026-12-08 16:01:42 UTC: see https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-identifiers
The ACME server answered HTTP 429 (urn:ietf:params:acme:error:rateLimited)."""
RATE_LIMITED_REGISTRATION = """Unable to register an account with ACME server. Error returned by the ACME server: too \
many new registrations (10) from this IP address in the last 3h0m0s, retry after 2026-12-01 23:00:00 UTC: see \
https://letsencrypt.org/docs/rate-limits/#new-registrations-per-ip-address
The ACME server answered HTTP 429 (urn:ietf:params:acme:error:rateLimited)."""
SERVER_INTERNAL = """Requesting a certificate for t1c19384138.certmate.test
certmate: asking 1 nameserver(s) for 1 TXT record(s), at most 60 s: ns1.certmate.test (127.0.0.1, port 5353)
certmate: every nameserver shows the records after 0.1 s
An unexpected error occurred:
Error finalizing order :: Unable to meet CA SCT embedding requirements
The ACME server answered HTTP 500 (urn:ietf:params:acme:error:serverInternal)."""
UNAVAILABLE = """Requesting a certificate for tb57ecadef8.certmate.test
An unexpected error occurred:
acme.errors.ClientError: <Response [503]>
The ACME server answered HTTP 503."""
REJECTED = """Requesting a certificate for t127af8f73a.certmate.test
An unexpected error occurred:
Error creating new order :: Cannot issue for "x.certmate.test": The ACME server refuses to issue a certificate for \
this domain name, because it is forbidden by policy
The ACME server answered HTTP 400 (urn:ietf:params:acme:error:rejectedIdentifier)."""


def challenges_failed(*problems: tuple[str, str], authenticator: str = "dns-rfc2136") -> str:
    listed = "".join(
        f"  Identifier: x.certmate.test\n  Type:   {kind}\n  Detail: {detail}\n\n" for kind, detail in problems
    )
    return (
        f"Requesting a certificate for x.certmate.test\nWaiting 1 seconds for DNS changes to propagate\n\n"
        f"Certbot failed to authenticate some domains (authenticator: {authenticator}). The Certificate Authority "
        f"reported these problems:\n{listed}Hint: The Certificate Authority failed to verify the DNS TXT records "
        f"created by --{authenticator}. Ensure the above domains are hosted by this DNS provider, or try increasing "
        f"--{authenticator}-propagation-seconds (currently 1 second).\n\nSome challenges have failed."
    )


CAA = ("caa", "CAA record for x.certmate.test prevents issuance")
STALE_DNS = (
    "unauthorized",
    'Error retrieving TXT records for DNS challenge ("DNS lookup for \\"_acme-challenge.x.certmate.test\\" returned '
    "an unsuccessful response: '\\\\x03'\")",
)
# HTTP-01 against a port nothing listens on, on the CA's own host: the validation failed, not the CA.
REFUSED_VALIDATION = """Certbot failed to authenticate some domains (authenticator: manual). The Certificate \
Authority reported these problems:
  Identifier: ns1.certmate.test
  Type:   connection
  Detail: Get "http://ns1.certmate.test:5002/.well-known/acme-challenge/6Nxx-nOtkgr7cohZ-kpbfJabfwAgePNyXhYZQZsihkE": \
dial tcp 127.0.0.1:5002: connect: connection refused

Hint: The Certificate Authority failed to verify the challenge files created by the --manual-auth-hook. Ensure that \
this hook is functioning correctly. Refer to "certbot --help manual" and the Certbot User Guide.

Some challenges have failed."""
TSIG_REFUSED = """Requesting a certificate for t796da98b74.certmate.test
Encountered exception during recovery: certbot.errors.PluginError: Encountered error deleting TXT record: The peer \
didn't like the signature we sent
Encountered error adding TXT record: The peer didn't like the signature we sent"""
NO_ZONE = """Requesting a certificate for x.other.test
Unable to determine base domain for _acme-challenge.x.other.test using names: ['_acme-challenge.x.other.test', \
'x.other.test', 'other.test', 'test']."""
DNS_TIMEOUT = """Requesting a certificate for t8e8363ff66.certmate.test
Encountered exception during recovery: certbot.errors.PluginError: Encountered error when making query: The DNS \
operation timed out.
Encountered error when making query: The DNS operation timed out."""
# The active propagation check (dnswait.py): a nameserver that never showed the records.
NOT_PROPAGATED = """Requesting a certificate for x.certmate.test
certmate: after 60 s, nameserver ns2.certmate.test (127.0.0.1, port 5354) answered without TXT \
_acme-challenge.x.certmate.test
DNS records not propagated within 60 s: ns2.certmate.test (127.0.0.1, port 5354); fix its zone transfers, or set \
DNS account bind to a fixed wait"""
# A DNS provider's API that cannot be reached: a connection failure, but not the CA's.
DNS_API_DOWN = """Requesting a certificate for x.example.com
An unexpected error occurred:
requests.exceptions.ProxyError: HTTPSConnectionPool(host='api.cloudflare.com', port=443): Max retries exceeded with \
url: /client/v4/zones?name=example.com (Caused by ProxyError('Unable to connect to proxy', OSError('Tunnel \
connection failed: 502 api.cloudflare.com: could not connect')))"""
DNS_API_REFUSED = (
    "dns.internal.test resolves to 10.0.0.7, a private address, which the platform does not connect to for tenants "
    "(CERTMATE_EGRESS_ALLOW)"
)
UNTRUSTED_CA = """An unexpected error occurred:
requests.exceptions.SSLError: HTTPSConnectionPool(host='127.0.0.1', port=52965): Max retries exceeded with url: /dir \
(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: \
self-signed certificate (_ssl.c:1006)')))"""


@pytest.mark.parametrize(
    ("text", "ca_url", "expected"),
    [
        (REGISTRATION_REFUSED, CA, UNREACHABLE),
        (ORDER_REFUSED, CA, UNREACHABLE),
        (READ_TIMEOUT, LE, UNREACHABLE),
        (CONNECTION_RESET, LE, UNREACHABLE),
        (RATE_LIMITED_ORDER, CA, RATE_LIMITED),
        (RATE_LIMITED_REGISTRATION, CA, RATE_LIMITED),
        (SERVER_INTERNAL, CA, SERVER_ERROR),
        (UNAVAILABLE, CA, SERVER_ERROR),
        (REJECTED, CA, POLICY),
        (challenges_failed(CAA), CA, POLICY),
    ],
    ids=[
        "unreachable-registering", "unreachable-ordering", "read-timeout", "connection-reset", "rate-limited-order",
        "rate-limited-registration", "server-internal", "html-503", "rejected-identifier", "caa",
    ],
)  # fmt: skip
def test_what_another_ca_could_fix_falls_back(text, ca_url, expected):
    assert fallback_class(text, ca_url=ca_url) == expected


@pytest.mark.parametrize(
    ("text", "ca_url"),
    [
        (challenges_failed(STALE_DNS), CA),
        (challenges_failed(CAA, STALE_DNS), CA),  # CAA for one name, the DNS for another: the DNS fails anywhere
        (REFUSED_VALIDATION, CA),
        (REFUSED_VALIDATION, "https://127.0.0.1:5002/dir"),  # even naming the CA's own host and port
        (TSIG_REFUSED, CA),
        (NO_ZONE, CA),
        (DNS_TIMEOUT, CA),
        (NOT_PROPAGATED, CA),
        (DNS_API_DOWN, LE),
        (DNS_API_REFUSED, LE),
        (UNTRUSTED_CA, CA),
        ("certbot did not finish within 1800 s and was stopped", CA),
        (ORDER_REFUSED, "https://127.0.0.1:14000/dir"),  # another server on the CA's host: not the CA
    ],
    ids=[
        "stale-dns", "caa-and-stale-dns", "validation-connection-refused", "validation-on-the-ca-host",
        "tsig-refused", "no-zone", "dns-timeout", "propagation-check", "dns-api-down", "dns-api-egress-refused",
        "untrusted-ca", "certbot-deadline", "other-port",
    ],
)  # fmt: skip
def test_what_would_fail_at_any_ca_does_not_fall_back(text, ca_url):
    assert fallback_class(text, ca_url=ca_url) is None


def test_a_rate_limit_and_an_unreachable_ca_are_retried_a_policy_refusal_is_not():
    assert is_transient(RATE_LIMITED_ORDER) and is_transient(ORDER_REFUSED) and is_transient(SERVER_INTERNAL)
    assert not is_transient(REJECTED)


LOG = """2026-12-01 21:37:13,906:DEBUG:acme.client:Received response:
HTTP 200
Replay-Nonce: Hig92sOIyiIIuw14KSIMNg


2026-12-01 21:37:13,911:DEBUG:acme.client:Received response:
HTTP 429
Content-Type: application/problem+json
Retry-After: 3600

{
  "type": "urn:ietf:params:acme:error:rateLimited",
  "detail": "too many new orders recently",
  "status": 429
}
2026-12-01 21:37:13,911:DEBUG:certbot._internal.main:Exiting abnormally:
"""


def test_the_cas_last_answer_is_read_from_certbots_log_and_nothing_else(tmp_path):
    (tmp_path / "letsencrypt.log").write_text(LOG)
    assert last_answer(tmp_path) == "The ACME server answered HTTP 429 (urn:ietf:params:acme:error:rateLimited)."
    # A later answer that went well: the failure was not the CA's answer.
    (tmp_path / "letsencrypt.log").write_text(LOG + LOG.split("\n\n\n")[0].replace("21:37:13,906", "21:37:14,000"))
    assert last_answer(tmp_path) == ""
    # A link put there by certbot's user is not followed (the worker may read more than certbot can).
    (tmp_path / "letsencrypt.log").unlink()
    secret = tmp_path / "elsewhere.log"
    secret.write_text(LOG)
    os.symlink(secret, tmp_path / "letsencrypt.log")
    assert last_answer(tmp_path) == ""
    assert last_answer(tmp_path / "missing") == ""


def test_a_log_crafted_to_be_slow_to_read_is_read_at_once(tmp_path):
    # A CA's body repeating the log's own words, with no line of certbot's after them: a megabyte of them.
    crafted = "Received response:\nHTTP 200\n" * (MAX_LOG_BYTES // 27)
    (tmp_path / "letsencrypt.log").write_text(LOG + crafted)
    start = time.monotonic()
    assert last_answer(tmp_path) == ""
    assert time.monotonic() - start < 1
