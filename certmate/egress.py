"""STAND-IN for the egress branch's certmate/egress.py (same API), so the sso branch runs on its own.
Replace with the egress branch's module when merging (take theirs).

The platform egress rule: tenant-supplied destinations may not be loopback, link-local, private or
special addresses unless CERTMATE_EGRESS_ALLOW (CIDRs and host names) allows them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings


class EgressRefused(Exception):
    """A connection the platform's egress rule does not allow."""


def _allowed() -> list[str]:
    value = getattr(settings, "CERTMATE_EGRESS_ALLOW", None)
    if value is None:
        value = [item.strip() for item in os.environ.get("CERTMATE_EGRESS_ALLOW", "").split(",") if item.strip()]
    return list(value)


def _check_host(host: str, port: int) -> None:
    allowed = _allowed()
    if host.lower() in allowed:
        return
    networks = []
    for item in allowed:
        with contextlib.suppress(ValueError):
            networks.append(ipaddress.ip_network(item, strict=False))
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise EgressRefused(f"{host} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in networks):
            continue
        if not address.is_global:
            raise EgressRefused(f"{host} resolves to {address}, which the platform does not allow connecting to")


def check_url(url: str, schemes: tuple[str, ...] = ("https",)) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise EgressRefused(f"only {', '.join(s + '://' for s in schemes)} URLs are allowed")
    _check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


class _GuardedSession(requests.Session):
    def request(self, method, url, *args, **kwargs):
        check_url(url, schemes=("https", "http"))
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def session() -> requests.Session:
    guarded_session = _GuardedSession()
    guarded_session.trust_env = False
    return guarded_session
