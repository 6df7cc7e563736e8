"""Which nameservers an order's active propagation check asks, planned before certbot runs: the
account's own list, the egress rule on every address, the fixed wait kept (and said) when the
resolvers do not answer. Discovery from a zone's NS records runs against BIND9 in
tests/e2e/test_propagation.py."""

from __future__ import annotations

import json
import socket
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest
from django.test import override_settings

from apps.certificates.acme.confine import DNS_CHECK_VARIABLE, PORTS_VARIABLE, with_dns_check
from apps.certificates.acme.failures import failure_type, is_transient
from apps.certificates.acme.models import DnsAccount
from apps.certificates.acme.propagation import DISCOVERY_SECONDS, MAX_ZONE_NAMESERVERS, dns_check_plan
from apps.certificates.engines.base import EngineError


def account(**fields) -> DnsAccount:
    return DnsAccount(name="main", provider="rfc2136", **fields)


def test_the_accounts_own_nameservers_are_asked_for_every_name():
    plan = json.loads(
        dns_check_plan(
            names=["Example.com", "*.example.com", "www.example.com."],
            account=account(check_nameservers=["127.0.0.1:5300", "::1"]),
            plugin_waits=True,
        )
    )
    servers = [{"name": "", "address": "127.0.0.1", "port": 5300}, {"name": "", "address": "::1", "port": 53}]
    assert plan == {
        "account": "rfc2136:main",
        "records": [
            {"name": "_acme-challenge.example.com", "query": "_acme-challenge.example.com", "nameservers": servers},
            {"name": "_acme-challenge.www.example.com", "query": "_acme-challenge.www.example.com",
             "nameservers": servers},
        ],
    }  # fmt: skip


def test_a_fixed_account_or_a_plugin_that_waits_by_itself_keeps_its_wait():
    fixed = account(propagation_check="fixed", check_nameservers=["127.0.0.1"])
    assert dns_check_plan(names=["example.com"], account=fixed, plugin_waits=True) == ""
    assert dns_check_plan(names=["example.com"], account=account(check_nameservers=["127.0.0.1"]),
                          plugin_waits=False) == ""  # fmt: skip


@override_settings(CERTMATE_EGRESS_ALLOW=["127.0.0.0/8"])
def test_a_nameserver_the_egress_rule_refuses_stops_the_order_before_certbot():
    stored = account(check_nameservers=["127.0.0.1", "10.9.8.7:53"])  # saved before the rule changed
    with pytest.raises(EngineError) as refused:
        dns_check_plan(names=["example.com"], account=stored, plugin_waits=True)
    assert refused.value.code == "dns_check_refused"
    assert "DNS account rfc2136:main: the propagation check would ask nameserver 10.9.8.7 is a private" in str(
        refused.value
    )
    assert "or its propagation check to fixed" in str(refused.value)


def test_resolvers_that_do_not_answer_keep_the_fixed_wait_with_a_note_within_the_bound():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # takes questions, never answers
        silent.bind(("127.0.0.1", 0))
        with override_settings(CERTMATE_DNS_RESOLVERS=[f"127.0.0.1:{silent.getsockname()[1]}"]):
            start = time.monotonic()
            plan = json.loads(dns_check_plan(names=["example.com"], account=account(), plugin_waits=True))
            took = time.monotonic() - start
    assert took < DISCOVERY_SECONDS + 0.5
    assert plan == {
        "fixed": "the nameservers of _acme-challenge.example.com could not be found (LifetimeTimeout): "
        "waiting the propagation time instead"
    }


@pytest.fixture
def resolver_of_a_zone_with_many_nameserver_addresses():
    """A resolver (on loopback) for a tenant's zone example.com whose one nameserver has 25 public
    addresses: questions the plan would send, each round, to whatever hosts the tenant names."""
    zone = dns.name.from_text("example.com")
    ns = dns.name.from_text("ns.example.com")

    def answer(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        if question.rdtype == dns.rdatatype.SOA and question.name == zone:
            response.answer.append(
                dns.rrset.from_text(zone, 60, "IN", "SOA", "ns.example.com. h.example.com. 1 2 3 4 5")
            )
        elif question.rdtype == dns.rdatatype.NS and question.name == zone:
            response.answer.append(dns.rrset.from_text(zone, 60, "IN", "NS", "ns.example.com."))
        elif question.rdtype == dns.rdatatype.A and question.name == ns:
            response.answer.append(dns.rrset.from_text(ns, 60, "IN", "A", *(f"9.9.9.{n}" for n in range(1, 26))))
        return response

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.1)
    over = threading.Event()

    def serve():
        while not over.is_set():
            try:
                data, client = server.recvfrom(4096)
            except TimeoutError:
                continue
            server.sendto(answer(dns.message.from_wire(data)).to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    over.set()
    thread.join()
    server.close()


def test_a_zone_naming_more_nameserver_addresses_than_the_bound_keeps_the_fixed_wait(
    resolver_of_a_zone_with_many_nameserver_addresses,
):
    with override_settings(CERTMATE_DNS_RESOLVERS=[resolver_of_a_zone_with_many_nameserver_addresses]):
        plan = json.loads(dns_check_plan(names=["example.com"], account=account(), plugin_waits=True))
    assert plan == {
        "fixed": f"the nameservers of example.com have more than {MAX_ZONE_NAMESERVERS} addresses: "
        "waiting the propagation time instead"
    }


def test_the_run_gets_the_plan_and_may_reach_its_nameservers_over_tcp():
    plan = dns_check_plan(names=["example.com"], account=account(check_nameservers=["127.0.0.1:5300"]),
                          plugin_waits=True)  # fmt: skip
    env = with_dns_check({PORTS_VARIABLE: "5353"}, plan, tcp_ports={53, 5300})
    assert env == {PORTS_VARIABLE: "5300,5353", DNS_CHECK_VARIABLE: plan}


def test_a_tenant_port_never_widens_the_tcp_ports_the_child_may_reach():
    # 6379 passes the egress rule on a public address, but Landlock would open it on loopback too.
    plan = dns_check_plan(names=["example.com"], account=account(check_nameservers=["9.9.9.9:6379"]),
                          plugin_waits=True)  # fmt: skip
    env = with_dns_check({PORTS_VARIABLE: "5353"}, plan, tcp_ports={53})
    assert env == {PORTS_VARIABLE: "5353", DNS_CHECK_VARIABLE: plan}


def test_a_check_that_ran_out_of_time_is_dns_that_has_not_caught_up():
    reason = (
        "DNS records not propagated within 8 s: ns2.example.com (192.0.2.53) answered without TXT "
        "_acme-challenge.example.com; fix its zone transfers, or set DNS account rfc2136:main to a fixed wait"
    )
    assert failure_type(reason) == ("dns", "not_propagated")
    assert is_transient(reason)
    # However its words read, never a CA's failure (an issuer fallback would try another CA for nothing).
    silent = reason.replace("answered without", "gave no answer (Timeout) for").replace(")", ", port 503)", 1)
    assert failure_type(silent) == ("dns", "not_propagated")
