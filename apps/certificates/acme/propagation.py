"""Which nameservers the active DNS propagation check asks: planned in the worker before certbot runs,
asked by the certbot child (dnswait.py), which gets the plan as JSON through runner.Order.dns_check.

The nameservers are the DNS account's own list (``check_nameservers``) when it has one, else the
authoritative nameservers of each challenge name's zone, found through the platform's resolvers
(CERTMATE_DNS_RESOLVERS) and asked on CERTMATE_DNS_QUERY_PORT. Every address passes the platform's
egress rule: a tenant's NS records must not make certmate query a private network. When finding them
fails (no resolver answers), the order keeps the plugin's fixed wait and says so in its output.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterable

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.exceptions import ValidationError

from apps.certificates.acme.models import DnsAccount, PropagationCheck
from apps.certificates.engines.base import EngineError
from certmate.egress import EgressRefused, check_address

MAX_CHECK_NAMESERVERS = 10
# A zone's NS records are the tenant's to write: past this many addresses the check would question
# whatever hosts they name, each once a round for the whole propagation time; the fixed wait instead.
MAX_ZONE_NAMESERVERS = 20
DISCOVERY_SECONDS = 2.0  # the most finding the nameservers adds to an order (then: the fixed wait)
QUERY_SECONDS = 0.7  # one question to a resolver
CHALLENGE_LABEL = "_acme-challenge"


class _NotFound(Exception):
    """The nameservers of a challenge name could not be found: the order keeps the fixed wait."""


# -- the account's own list ----------------------------------------------------------------------------


def nameserver_parse(entry: str) -> tuple[str, int | None]:
    """(address, port or None) of "192.0.2.1", "192.0.2.1:5353", "2001:db8::1" or "[2001:db8::1]:5353";
    ValueError otherwise (names are refused: they would need a lookup the tenant controls)."""
    text = entry.strip()
    port: str | None = None
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry[:64]!r} is not an IP address with an optional port")
        port = rest[1:] if rest else None
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address = text
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f'{entry[:64]!r} is not an IP address ("192.0.2.1" or "192.0.2.1:5353")') from None
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{entry[:64]!r}: the port must be a number from 1 to 65535")
    return str(parsed), int(port) if port is not None else None


def check_nameservers_clean(entries: Iterable[str] | None) -> list[str]:
    """The account's nameservers as stored (normalized, deduplicated), or ValidationError on
    check_nameservers naming the bad entry: at most ten IP literals, each one the egress rule allows."""
    if entries is None:
        return []
    if isinstance(entries, str) or not all(isinstance(entry, str) for entry in entries):
        raise ValidationError({"check_nameservers": "give a list of IP addresses"}, code="invalid")
    cleaned: list[str] = []
    for entry in entries:
        try:
            address, port = nameserver_parse(entry)
            check_address(address)
        except (ValueError, EgressRefused) as exc:
            raise ValidationError({"check_nameservers": f"nameserver {exc}"}, code="invalid_nameserver") from None
        shown = f"[{address}]" if ":" in address else address
        text = f"{shown}:{port}" if port else address
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_CHECK_NAMESERVERS:
        raise ValidationError(
            {"check_nameservers": f"give at most {MAX_CHECK_NAMESERVERS} nameservers"}, code="too_many_nameservers"
        )
    return cleaned


# -- the plan --------------------------------------------------------------------------------------


def dns_check_plan(*, names: list[str], account: DnsAccount, plugin_waits: bool) -> str:
    """The plan for runner.Order.dns_check; "" keeps the plugin's wait as it is (a fixed check, or a
    plugin without a propagation wait of its own). EngineError when a nameserver is refused."""
    if account.propagation_check != PropagationCheck.ACTIVE or not plugin_waits:
        return ""
    records = sorted({f"{CHALLENGE_LABEL}.{name.removeprefix('*.').rstrip('.').lower()}" for name in names})
    plan: dict = {"account": str(account)}
    if account.check_nameservers:
        servers = [_server("", entry, account) for entry in account.check_nameservers]
        plan["records"] = [{"name": record, "query": record, "nameservers": servers} for record in records]
        return json.dumps(plan)
    try:
        plan["records"] = _discovered(records, account)
    except _NotFound as exc:
        plan = {"fixed": f"{exc}: waiting the propagation time instead"}
    return json.dumps(plan)


def _server(name: str, entry: str, account: DnsAccount) -> dict:
    address, port = nameserver_parse(entry)
    try:
        check_address(address, host=name)
    except EgressRefused as exc:
        reason = (
            f"DNS account {account}: the propagation check would ask nameserver {exc}; "
            "set the account's check nameservers to ones that may be asked, or its propagation check to fixed"
        )
        raise EngineError(reason, code="dns_check_refused") from None
    return {"name": name, "address": address, "port": port or settings.CERTMATE_DNS_QUERY_PORT}


def _discovered(records: list[str], account: DnsAccount) -> list[dict]:
    resolver = _resolver()
    deadline = time.monotonic() + DISCOVERY_SECONDS

    def lifetime() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _NotFound(f"the resolvers did not tell the zone's nameservers within {DISCOVERY_SECONDS:g} s")
        return min(left, QUERY_SECONDS)

    zones: dict[dns.name.Name, list[dict]] = {}
    planned = []
    for record in records:
        try:
            query = _canonical(resolver, record, lifetime())
            zone = dns.resolver.zone_for_name(query, resolver=resolver, lifetime=lifetime())
            if zone == dns.name.root:  # a name no zone holds (yet): the root servers know nothing of it
                raise _NotFound(f"no zone holds {record}")
            if zone not in zones:
                zones[zone] = _zone_nameservers(resolver, zone, account, lifetime)
        except dns.exception.DNSException as exc:
            raise _NotFound(f"the nameservers of {record} could not be found ({type(exc).__name__})") from None
        planned.append({"name": record, "query": query.to_text(omit_final_dot=True), "nameservers": zones[zone]})
    return planned


def _canonical(resolver: dns.resolver.Resolver, record: str, lifetime: float) -> dns.name.Name:
    """The name the CA ends up asking: the record's own, or the end of its CNAME chain."""
    try:
        return resolver.resolve(record, "TXT", raise_on_no_answer=False, lifetime=lifetime).canonical_name
    except dns.resolver.NXDOMAIN as exc:
        return exc.canonical_name


def _zone_nameservers(resolver: dns.resolver.Resolver, zone: dns.name.Name, account: DnsAccount, lifetime) -> list:
    servers = []
    for ns in sorted(rdata.target for rdata in resolver.resolve(zone, "NS", lifetime=lifetime())):
        name = ns.to_text(omit_final_dot=True)
        # IPv4 first: a host without IPv6 would wait for every AAAA address in vain.
        for rdtype in ("A", "AAAA"):
            try:
                answer = resolver.resolve(ns, rdtype, raise_on_no_answer=False, lifetime=lifetime())
            except dns.resolver.NXDOMAIN:  # a stale NS record: the others are asked
                break
            addresses = sorted(rdata.address for rdata in answer.rrset or ())
            servers += [_server(name, address, account) for address in addresses]
            if len(servers) > MAX_ZONE_NAMESERVERS:
                where = zone.to_text(omit_final_dot=True)
                raise _NotFound(f"the nameservers of {where} have more than {MAX_ZONE_NAMESERVERS} addresses")
            if addresses:
                break
    if not servers:
        raise _NotFound(f"no address was found for the nameservers of {zone.to_text(omit_final_dot=True)}")
    return servers


def _resolver() -> dns.resolver.Resolver:
    configured = list(settings.CERTMATE_DNS_RESOLVERS)
    try:
        resolver = dns.resolver.Resolver(configure=not configured)
        if configured:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(*_address_port(entry)) for entry in configured]
    except dns.resolver.NoResolverConfiguration:
        raise _NotFound("this machine has no resolver configured (set CERTMATE_DNS_RESOLVERS)") from None
    except ValueError as exc:
        raise _NotFound(f"CERTMATE_DNS_RESOLVERS: {exc}") from None
    resolver.timeout = QUERY_SECONDS
    resolver.cache = None
    return resolver


def _address_port(entry: str) -> tuple[str, int]:
    address, port = nameserver_parse(entry)
    return address, port or 53
