"""Which lego variables a tenant may hand the ``multi`` DNS provider: an allowlist per lego provider.

lego reads its settings from the process environment, and some of them name files on the host
(``AKAMAI_EDGERC``, anything ``*_FILE``), profiles or the machine's own cloud identity
(``ALICLOUD_RAM_ROLE``, ``OCI_AUTH_TYPE``). A tenant gets only the variables lego documents for the
provider it chose, minus those; ``lego_providers.json`` holds the table, written from lego's provider
metadata by ``tools/lego_providers.py`` (see there for the rules).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from apps.certificates.acme.limits import LEGO_SECONDS_BOUNDS
from certmate.egress import EgressRefused, check_address, check_url

TABLE = Path(__file__).with_name("lego_providers.json")
MAX_VALUE_LENGTH = 4096
MAX_DESTINATION_LENGTH = 2048
SECONDS_BOUNDS = LEGO_SECONDS_BOUNDS
# Regions and locations, which lego puts into host names (https://identity.<region>.conoha.io): a name,
# never text that could end the host and start another ("x@127.0.0.1:8080/").
PLACE_NAME = re.compile(r"_(REGION|REGION_ID|REGION_NAME|AUTH_REGION|LOCATION_ID)$")
PLACE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
# Destinations some providers name by a keyword rather than a URL.
NAMED_ENDPOINTS = {
    "OVH_ENDPOINT": {"ovh-eu", "ovh-ca", "ovh-us", "kimsufi-eu", "kimsufi-ca", "soyoustart-eu", "soyoustart-ca"},
}


@functools.cache
def table() -> dict:
    return json.loads(TABLE.read_text())


def lego_version() -> str:
    return table()["lego"]["version"]


def provider_names() -> list[str]:
    return list(table()["providers"])


def check(provider: str, variables: Mapping[str, str], *, allow_identity: bool) -> Iterable[tuple[str, str]]:
    """(field, problem) pairs for a ``multi`` account: the provider, then each variable and its value."""
    refused = table()["refused_providers"].get(provider)
    entry = table()["providers"].get(provider)
    if refused:
        yield "provider", f"'{provider}' is not allowed: it {refused}"
        return
    if entry is None:
        yield "provider", f"'{provider}' is not a lego {lego_version()} DNS provider certmate allows"
        return
    for name, value in variables.items():
        kind = entry["variables"].get(name)
        if name in entry["refused"]:
            yield name, f"is not allowed: it {entry['refused'][name]}"
        elif kind is None:
            known = ", ".join(n for n, k in entry["variables"].items() if k != "identity" or allow_identity)
            yield name, f"is not a variable of lego provider {provider} (allowed: {known})"
        elif kind == "identity" and not allow_identity:
            yield name, "is not allowed: it lends the certmate host's own cloud identity"
        else:
            problem = _value_problem(name, kind, value)
            if problem:
                yield name, problem


def _value_problem(name: str, kind: str, value: str) -> str | None:
    if kind == "seconds":
        low, high = next(((lo, hi) for suffix, lo, hi in SECONDS_BOUNDS if name.endswith(suffix)), (1, 300))
        if not re.fullmatch(r"[0-9]{1,6}", value) or not low <= int(value) <= high:
            return f"must be a whole number of seconds from {low} to {high}"
        return None
    if kind == "destination":
        if len(value) > MAX_DESTINATION_LENGTH:
            return f"is too long (at most {MAX_DESTINATION_LENGTH} characters)"
        if value in NAMED_ENDPOINTS.get(name, ()):
            return None
        return destination_problem(value, dns=name.endswith("_NAMESERVER"))
    if PLACE_NAME.search(name) and not PLACE_VALUE.fullmatch(value):
        return "must be a region name: letters, digits, '.', '_' and '-' (at most 64)"
    if len(value) > MAX_VALUE_LENGTH:
        return f"is too long (at most {MAX_VALUE_LENGTH} characters)"
    return None


def destination_problem(value: str, *, dns: bool = False) -> str | None:
    """Whether lego may connect to ``value`` (a URL, or a host with an optional port): the platform's
    egress rule, as for every destination a tenant sets. A DNS server (``dns``) is reached directly,
    not through the run's HTTP egress proxy, so it must be an address, checked here."""
    url = value if "://" in value else f"https://{value}"
    try:
        parts = check_url(url, schemes=("https", "http"), query=False)
        if dns:
            try:
                address = ipaddress.ip_address(parts.hostname or "")
            except ValueError:
                return "must be an IP address, optionally with :port (DNS goes around the egress proxy)"
            check_address(address)
    except EgressRefused as exc:
        return f"is refused: {exc}"
    return None
