"""A failure whose fix is an account's setting says which setting, and is not retried as if transient:
certbot 5.8's own output for an ACME server whose HTTPS certificate is not trusted, and for a TSIG key
the DNS server refused (both recorded against real servers: openssl s_server, BIND9)."""

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.acme import runner
from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.acme.engine import AcmeEngine
from apps.certificates.acme.failures import AccountsInUse, advice, is_transient
from apps.certificates.engines.base import EngineError
from apps.certificates.models import Certificate
from tests.factories import TEST_ACTOR

LOG = "/tmp/certmate-certbot-k2j4x9/logs/letsencrypt.log"  # noqa: S108 - certbot's words
UNTRUSTED_CA = f"""Saving debug log to {LOG}
An unexpected error occurred:
requests.exceptions.SSLError: HTTPSConnectionPool(host='acme.internal.test', port=14000): Max retries exceeded \
with url: /dir (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate \
verify failed: self-signed certificate (_ssl.c:1006)')))
Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile {LOG} or re-run \
Certbot with -v for more details.
"""
CA = AccountsInUse(ca_account="internal", directory_url="https://acme.internal.test:14000/dir")


def test_an_untrusted_acme_server_is_permanent_and_names_the_trust_bundle():
    assert not is_transient(UNTRUSTED_CA), "no retry for minutes: the next attempt fails alike"
    assert advice(UNTRUSTED_CA, CA) == (
        "the ACME server acme.internal.test presented an HTTPS certificate that no trusted root signed "
        "(CERTIFICATE_VERIFY_FAILED): set the trust bundle of CA account 'internal' "
        "(the PEM of the root CA that signed it)"
    )


def test_a_trust_bundle_without_the_right_root_and_another_host_are_said_so():
    bundled = AccountsInUse(ca_account="internal", directory_url=CA.directory_url, has_trust_bundle=True)
    assert advice(UNTRUSTED_CA, bundled).endswith(
        "add the root CA that signed it to the trust bundle of CA account 'internal'"
    )
    api = UNTRUSTED_CA.replace("host='acme.internal.test'", "host='api.dns.internal.test'")
    assert advice(api, CA).startswith("api.dns.internal.test presented an HTTPS certificate that no trusted root")
    assert advice("Connection refused", CA) is None and is_transient("Max retries exceeded with url: /dir")


@pytest.fixture
def accounts_of(tenant_a):
    def make(*, directory_url: str = CA.directory_url, **credentials) -> Certificate:
        with tenant_context(tenant_a):
            ca = ca_account_create(actor=TEST_ACTOR, name="internal", directory=directory_url, email="a@alpha.test")
            dns = dns_account_create(
                actor=TEST_ACTOR, name="bind", provider="rfc2136",
                credentials={"nameserver": "127.0.0.1", "tsig_key": "certmate-key", "tsig_secret": "c2VjcmV0",
                             **credentials},
            )  # fmt: skip
            return Certificate.objects.create(identifier="www.alpha.test", ca_account=ca, dns_account=dns)

    return make


def failing(monkeypatch, name: str, output: str) -> None:
    def fail(*args, **kwargs):
        raise runner.CertbotError(runner.failure_reason(output), output)

    monkeypatch.setattr(runner, name, fail)


def test_an_order_through_an_untrusted_acme_server_fails_for_good_naming_the_ca_account(
    tenant_a, accounts_of, monkeypatch
):
    certificate = accounts_of()
    failing(monkeypatch, "register", UNTRUSTED_CA)  # the account's first use: registering it
    with tenant_context(tenant_a), pytest.raises(EngineError) as failed:
        AcmeEngine().obtain(certificate, keep_alive=lambda: None)
    assert not failed.value.transient
    assert failed.value.reason.startswith("www.alpha.test: the ACME server acme.internal.test presented")
    assert "set the trust bundle of CA account 'internal'" in failed.value.reason


def tsig_refused(words: str) -> str:
    return f"""Requesting a certificate for www.alpha.test

Saving debug log to {LOG}
Encountered exception during recovery: certbot.errors.PluginError: Encountered error deleting TXT record: {words}
Encountered error adding TXT record: {words}
Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile {LOG} or re-run \
Certbot with -v for more details.
"""


BAD_SECRET = tsig_refused("The peer didn't like the signature we sent")  # a wrong tsig_secret
UNKNOWN_KEY = tsig_refused("The peer didn't know the key we used")  # a wrong tsig_key or tsig_algorithm
TSIG = AccountsInUse(dns_account="bind", tsig_key="certmate-key", tsig_algorithm="HMAC-SHA256")


def test_a_refused_tsig_key_names_the_key_and_algorithm_to_check():
    assert not is_transient(BAD_SECRET) and not is_transient(UNKNOWN_KEY)
    assert advice(BAD_SECRET, TSIG) == (
        "DNS account 'bind': the DNS server rejected the signature of TSIG key 'certmate-key' (HMAC-SHA256): "
        "check that the account's tsig_secret and tsig_algorithm are those of the server's key of that name"
    )
    assert advice(UNKNOWN_KEY, TSIG) == (
        "DNS account 'bind': the DNS server does not know TSIG key 'certmate-key' (HMAC-SHA256): "
        "check the account's tsig_key and tsig_algorithm against the server's"
    )
    assert advice(BAD_SECRET, AccountsInUse(dns_account="bind", tsig_key="k")).startswith(
        "DNS account 'bind': the DNS server rejected the signature of TSIG key 'k' (HMAC-MD5, the default)"
    )
    assert advice(BAD_SECRET, AccountsInUse(dns_account="cloudflare")) is None, "no TSIG key, no TSIG advice"


def test_an_order_with_a_wrong_tsig_secret_fails_naming_the_dns_accounts_key(tenant_a, accounts_of, monkeypatch):
    certificate = accounts_of(tsig_algorithm="HMAC-SHA512")
    with tenant_context(tenant_a):
        certificate.ca_account.acme_account = {"accounts/x/regr.json": "{}"}  # registered already
        certificate.ca_account.save(update_fields=["acme_account"])
    failing(monkeypatch, "obtain", BAD_SECRET)
    with tenant_context(tenant_a), pytest.raises(EngineError) as failed:
        AcmeEngine().obtain(certificate, keep_alive=lambda: None)
    assert not failed.value.transient
    assert failed.value.reason.startswith(
        "www.alpha.test: DNS account 'bind': the DNS server rejected the signature of TSIG key 'certmate-key' "
        "(HMAC-SHA512): check"
    )
