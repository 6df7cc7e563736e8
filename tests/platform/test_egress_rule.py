"""The egress rule's address table, URL checks and CERTMATE_EGRESS_ALLOW (no network needed)."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from certmate.egress import EgressRefused, check_address, check_url, parse_allow, resolve
from certmate.egress.rules import allow_from_env

REFUSED = {
    # IPv4
    "0.0.0.0": "unspecified",  # noqa: S104
    "0.1.2.3": "unspecified",
    "10.1.2.3": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "169.254.169.254": "link-local",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.0.0.8": "IETF protocol",
    "192.0.2.1": "documentation",
    "192.88.99.1": "6to4 relay",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.19.255.1": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    # IPv6
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "febf::1": "link-local",
    "fec0::1": "site-local",
    "fc00::1": "unique local",
    "fd12:3456::1": "unique local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation",
    "100::1": "discard-only",
    "64:ff9b:1::1": "local-use NAT64",
    "2001:2::1": "IETF protocol",
    # IPv6 forms of refused IPv4 addresses
    "::ffff:127.0.0.1": "IPv4-mapped address embedding 127.0.0.1, a loopback",
    "::ffff:169.254.169.254": "IPv4-mapped address embedding 169.254.169.254, a link-local",
    "::ffff:10.0.0.1": "IPv4-mapped address embedding 10.0.0.1, a private",
    "::127.0.0.1": "IPv4-compatible address embedding 127.0.0.1, a loopback",
    "64:ff9b::7f00:1": "NAT64 address embedding 127.0.0.1, a loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 address embedding 169.254.169.254, a link-local",
    "2002:7f00:1::": "6to4 address embedding 127.0.0.1, a loopback",
    "2002:a9fe:a9fe::1": "6to4 address embedding 169.254.169.254",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo address embedding 127.0.0.1, a loopback",
}

PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.fixture
def no_allowance(settings):
    settings.CERTMATE_EGRESS_ALLOW = []


@pytest.mark.parametrize(("ip", "why"), REFUSED.items())
def test_special_addresses_are_refused_with_their_reason(no_allowance, ip, why):
    with pytest.raises(EgressRefused) as refused:
        check_address(ip, host="vault.example")
    message = str(refused.value)
    assert message.startswith("vault.example: ")
    assert why in message
    assert "CERTMATE_EGRESS_ALLOW" in message


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_pass(no_allowance, ip):
    check_address(ip)


def test_the_refusal_names_the_host_and_the_address(no_allowance):
    with pytest.raises(EgressRefused) as refused:
        check_address("127.0.0.1", host="vault.example")
    assert str(refused.value) == (
        "vault.example: 127.0.0.1 is a loopback address, which the platform does not connect to for tenants "
        "(operators can allow it with CERTMATE_EGRESS_ALLOW)"
    )


def test_allowance_by_cidr_covers_the_range_and_its_mapped_forms(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["127.0.0.0/8", "fd00::/8"]
    for ip in ("127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "fd00::5"):
        check_address(ip)
    for ip in ("10.0.0.1", "169.254.169.254", "::1", "fc00::1"):
        with pytest.raises(EgressRefused):
            check_address(ip)


def test_allowance_by_host_name_allows_that_name_only(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["localhost", ".corp.test"]
    assert {sockaddr[0] for _, sockaddr in resolve("localhost", 80)} & {"127.0.0.1", "::1"}
    check_url("https://vault.corp.test:8200")
    check_url("https://localhost")
    with pytest.raises(EgressRefused):
        check_url("https://127.0.0.1")  # the name is allowed, not its address
    with pytest.raises(EgressRefused):
        check_url("https://corp.test.localhost")


def test_names_that_resolve_to_refused_addresses_are_refused_at_connection(no_allowance):
    # This machine's own name resolves to loopback here (/etc/hosts), and passes the validation-time check.
    check_url(f"https://{socket.gethostname()}")
    for name in ("localhost", socket.gethostname()):
        with pytest.raises(EgressRefused, match="loopback"):
            resolve(name, 443)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::ffff:127.0.0.1]:8200", "IPv4-mapped"),
        ("https://[::1]/", "loopback"),
        ("https://localhost:8200", "localhost"),
        ("https://vault.localhost", "localhost"),
        ("https://2130706433/", "not a valid host name"),
        ("https://0x7f.1/", "not a valid host name"),
        ("https://127.1/", "not a valid host name"),
        ("http://vault.example.com", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("https://vault.example.com/#", "fragment"),
        ("https://vault.example.com/x#y", "fragment"),
        ("https://user:pw@vault.example.com", "user name or password"),
        ("https://vault.example.com:0", "port"),
        ("https://vault.example.com:99999", "port"),
        ("https://vault example.com", "not a valid URL"),
        ("https:///path", "no host"),
    ],
)
def test_urls_are_checked_at_validation_without_dns(no_allowance, url, why):
    with pytest.raises(EgressRefused, match=why):
        check_url(url)


def test_good_urls_pass(no_allowance):
    check_url("https://vault.example.com:8200")
    check_url("https://[2606:4700:4700::1111]/dir")
    check_url("http://vault.example.com", schemes=("https", "http"))


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "not a host!", "-bad.example", "1.2.3.4/8/8"])
def test_bad_allow_entries_fail_at_start(monkeypatch, bad):
    monkeypatch.setenv("CERTMATE_EGRESS_ALLOW", f"127.0.0.0/8,{bad}")
    with pytest.raises(ImproperlyConfigured, match="CERTMATE_EGRESS_ALLOW"):
        allow_from_env()


def test_allow_entries_parse():
    allowance = parse_allow(("10.0.0.0/8", " vault.internal. ", ".corp.example", "[fd00::]/8"))
    assert allowance.allows_host("VAULT.internal")
    assert allowance.allows_host("a.b.corp.example")
    assert not allowance.allows_host("corp.example.evil")
