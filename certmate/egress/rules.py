"""The platform egress rule: which addresses certmate connects to on a tenant's behalf.

A tenant admin chooses URLs and addresses (a Vault, an ACME directory, a DNS API, a nameserver). Without
a rule they could make the web process or a worker reach the platform's own services: loopback, the
cloud metadata endpoint, private networks. Every special-purpose range is refused, IPv4 and IPv6, and an
IPv6 address that embeds an IPv4 one (mapped, compatible, NAT64, 6to4, Teredo) is judged by that IPv4
address too. Operators widen the rule with CERTMATE_EGRESS_ALLOW only (CIDRs and host names).

Pure functions over `ipaddress`: no Django settings and no network here (see `connect.py`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "CERTMATE_EGRESS_ALLOW"


class EgressRefused(Exception):
    """A connection the platform does not make for tenants. The message names the host, never a body."""


def _table(rows: list[tuple[str, str]]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), label) for cidr, label in rows)


# IANA special-purpose registries (RFC 6890 and successors), the ranges not reachable on the Internet or
# reaching the platform itself. Order matters only for the label shown: the narrowest first.
_REFUSED_V4 = _table(
    [
        ("0.0.0.0/8", "'this network' (unspecified) address"),
        ("10.0.0.0/8", "private address"),
        ("100.64.0.0/10", "carrier-grade NAT (shared) address"),
        ("127.0.0.0/8", "loopback address"),
        ("169.254.0.0/16", "link-local address (cloud metadata lives there)"),
        ("172.16.0.0/12", "private address"),
        ("192.0.0.0/24", "IETF protocol assignment address"),
        ("192.0.2.0/24", "documentation address"),
        ("192.31.196.0/24", "AS112 address"),
        ("192.52.193.0/24", "AMT address"),
        ("192.88.99.0/24", "6to4 relay anycast address"),
        ("192.168.0.0/16", "private address"),
        ("192.175.48.0/24", "AS112 address"),
        ("198.18.0.0/15", "benchmarking address"),
        ("198.51.100.0/24", "documentation address"),
        ("203.0.113.0/24", "documentation address"),
        ("224.0.0.0/4", "multicast address"),
        ("255.255.255.255/32", "broadcast address"),
        ("240.0.0.0/4", "reserved address"),
    ]
)
_REFUSED_V6 = _table(
    [
        ("::/128", "unspecified address"),
        ("::1/128", "loopback address"),
        ("64:ff9b:1::/48", "local-use NAT64 address"),
        ("100::/64", "discard-only address"),
        ("2001:db8::/32", "documentation address"),
        ("2001::/23", "IETF protocol assignment address"),
        ("3fff::/20", "documentation address"),
        ("5f00::/16", "segment routing (SRv6) address"),
        ("fc00::/7", "unique local (private) address"),
        ("fe80::/10", "link-local address"),
        ("fec0::/10", "site-local address"),
        ("ff00::/8", "multicast address"),
    ]
)
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
# Forms that are nothing but another spelling of their IPv4 address.
_WHOLE_FORMS = ("IPv4-mapped", "NAT64", "IPv4-compatible")


def embedded_ipv4(address: IPAddress) -> list[tuple[ipaddress.IPv4Address, str]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of its form."""
    if address.version == 4:
        return []
    found: list[tuple[ipaddress.IPv4Address, str]] = []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _MAPPED:
        found.append((low32, "IPv4-mapped"))
    elif address in _NAT64:
        found.append((low32, "NAT64"))
    elif address in _COMPATIBLE and int(address) > 1:
        found.append((low32, "IPv4-compatible"))
    if address in _SIXTOFOUR:
        found.append((ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF), "6to4"))
    if address in _TEREDO:
        server, client = address.teredo
        found += [(server, "Teredo"), (client, "Teredo")]
    return found


def _classify_plain(address: IPAddress) -> str | None:
    table = _REFUSED_V4 if address.version == 4 else _REFUSED_V6
    for network, label in table:
        if address in network:
            return label
    # Belt and braces: whatever the standard library also knows as special.
    for flag in ("is_loopback", "is_link_local", "is_private", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(address, flag):
            return flag.removeprefix("is_").replace("_", "-") + " address"
    if address.version == 6 and getattr(address, "is_site_local", False):
        return "site-local address"
    return None


def classify(address: IPAddress) -> str | None:
    """Why the rule refuses ``address`` (e.g. "loopback address"), or None when it is public."""
    embedded = embedded_ipv4(address)
    for inner, form in embedded:
        label = _classify_plain(inner)
        if label:
            return f"{form} address embedding {inner}, a {label}"
    if embedded and embedded[0][1] in _WHOLE_FORMS:
        return None  # ::ffff:8.8.8.8 is 8.8.8.8: judged by the IPv4 address alone
    return _classify_plain(address)


# --- CERTMATE_EGRESS_ALLOW ------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Allowance:
    networks: tuple[IPNetwork, ...] = ()
    hosts: tuple[str, ...] = ()  # exact names, or ".example.com" for every name under it

    def allows_host(self, host: str) -> bool:
        name = normalize_host(host)
        return any(name == entry or (entry.startswith(".") and name.endswith(entry)) for entry in self.hosts)

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address, *(inner for inner, _ in embedded_ipv4(address))]
        return any(
            candidate in network
            for candidate in candidates
            for network in self.networks
            if candidate.version == network.version
        )


def normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def is_host_name(host: str) -> bool:
    """A DNS host name (ASCII or IDNA-encoded), not an IP literal in any of the legacy numeric spellings."""
    if not host or len(host) > 253:
        return False
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    # "2130706433", "0x7f.1", "127.1": getaddrinfo reads these as IPv4 addresses; a real TLD is never numeric.
    return not re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)", labels[-1])


@lru_cache(maxsize=32)
def parse_allow(entries: tuple[str, ...]) -> Allowance:
    """Parse CERTMATE_EGRESS_ALLOW entries; ValueError names the first bad one."""
    networks: list[IPNetwork] = []
    hosts: list[str] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.replace("[", "").replace("]", ""), strict=False))
            continue
        except ValueError:
            pass
        name = normalize_host(entry)
        wildcard = name.startswith(".")
        if not is_host_name(name[1:] if wildcard else name):
            raise ValueError(
                f"{ALLOW_SETTING}: {entry!r} is neither a CIDR (10.0.0.0/8, fd00::/8) nor a host name "
                "(vault.internal, or .internal for every name under it)"
            )
        hosts.append(name)
    return Allowance(tuple(networks), tuple(hosts))


def refusal_message(host: str, address: IPAddress, label: str) -> str:
    name = normalize_host(host)
    where = f"{name}: " if name and name != str(address) else ""
    return (
        f"{where}{address} is a {label}, which the platform does not connect to "
        f"for tenants (operators can allow it with {ALLOW_SETTING})"
    )


def check_address_with(ip: str | IPAddress, allowance: Allowance, *, host: str = "") -> None:
    """Raise EgressRefused unless ``ip`` is public or allowed by ``allowance``."""
    try:
        address = (
            ip
            if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
            else ipaddress.ip_address(str(ip).strip("[]").split("%", 1)[0])
        )
    except ValueError:
        raise EgressRefused(f"{host or ip}: {str(ip)[:64]!r} is not an IP address") from None
    label = classify(address)
    if label and not allowance.allows_address(address):
        raise EgressRefused(refusal_message(host, address, label))


def allow_from_env(default: tuple[str, ...] = ()) -> list[str]:
    """CERTMATE_EGRESS_ALLOW from the environment (``default`` when unset), parsed now so a bad entry fails at start."""
    from django.core.exceptions import ImproperlyConfigured

    from certmate.env import env_list

    entries = env_list(ALLOW_SETTING, list(default))
    try:
        parse_allow(tuple(entries))
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    return entries
