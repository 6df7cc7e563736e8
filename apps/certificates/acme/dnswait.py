"""The active DNS propagation check, in the certbot child: once the DNS plugin has written the challenge
records, ask the zone's authoritative nameservers until each shows every expected TXT value, instead
of sleeping the plugin's propagation time (which stays the most it waits).

Loaded by confine.start_dns_check() in the certbot child (fork and spawn alike) when the run's
environment carries the worker's plan (propagation.py writes it). Standard library, certbot and
dnspython only: no Django, no project import. No plugin is changed: every DNS plugin of the registry
is a ``dns_common.DNSAuthenticator`` (lego's dns-multi too, with its own ``perform``), so each new
instance gets a ``perform`` of its own that runs the plugin's with a propagation time of 0, then asks.

The plan, as JSON: {"account": "rfc2136:main", "records": [{"name": "_acme-challenge.example.com",
"query": <the name to ask: the end of its CNAME chain>, "nameservers": [{"name", "address", "port"}]}]}
or {"fixed": "<why the fixed wait stays>"}.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
from certbot import errors
from certbot.display import util as display_util
from certbot.plugins.dns_common import DNSAuthenticator

# failures.py reads this phrase as DNS that has not caught up (transient, DNS side): never a CA's failure.
NOT_PROPAGATED = "DNS records not propagated"
FIRST_DELAY, LONGEST_DELAY = 0.05, 1.0  # between rounds: fast at first, then once a second
QUERY_SECONDS = 0.5  # one question to one nameserver, UDP then TCP when truncated
PARALLEL_QUESTIONS = 16
# A nameserver that never answers (down, lame) is not waited for once every record shows elsewhere:
# the CA's resolver moves on to the others too. One that answers must show every value.
SILENT_GRACE_SECONDS = 2.0
PROGRESS_EVERY = 5.0
SHOWN, STALE, SILENT = "shown", "stale", "silent"


@dataclass(frozen=True)
class Nameserver:
    name: str
    address: str
    port: int

    def __str__(self) -> str:
        where = self.address if self.port == 53 else f"{self.address}, port {self.port}"
        return f"{self.name} ({where})" if self.name else where


@dataclass
class Target:
    """One TXT name to see at one nameserver, and what it answered last."""

    record: str  # the _acme-challenge name
    query: str  # the name asked (the record's, or the end of its CNAME chain)
    values: frozenset[str]
    server: Nameserver
    state: str = SILENT
    said: str = "gave no answer for"  # what it did last, before "TXT <record>"
    answered: bool = False  # ever answered with authority

    def __str__(self) -> str:
        via = f" (CNAME to {self.query})" if self.query != self.record else ""
        return f"{self.server} {self.said} TXT {self.record}{via}"


def install(plan_text: str) -> None:
    """Give every DNS plugin instance made from now on the checking ``perform``."""
    plan = json.loads(plan_text)
    original = DNSAuthenticator.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.perform = lambda achalls: _perform(self, plan, achalls)  # over the class's own, for this run

    DNSAuthenticator.__init__ = __init__


def _perform(plugin: DNSAuthenticator, plan: dict, achalls: list) -> list:
    perform = type(plugin).perform
    if "fixed" in plan:
        display_util.notify(f"certmate: {plan['fixed']}")
        return perform(plugin, achalls)
    targets = targets_of(plan, achalls)
    if targets is None:
        display_util.notify("certmate: a challenge name is missing from the propagation plan: waiting instead")
        return perform(plugin, achalls)
    maximum = int(plugin.conf("propagation-seconds"))
    conf = plugin.conf
    plugin.conf = lambda var: 0 if var == "propagation-seconds" else conf(var)  # the plugin sleeps 0 s
    try:
        responses = perform(plugin, achalls)
    finally:
        del plugin.conf
    wait_until_shown(targets, maximum, account=str(plan.get("account", "")))
    return responses


def targets_of(plan: dict, achalls: list) -> list[Target] | None:
    """One target per challenge name and nameserver; None when the plan lacks a name."""
    expected: dict[str, set[str]] = {}
    for achall in achalls:
        name = achall.validation_domain_name(achall.identifier.value).rstrip(".").lower()
        expected.setdefault(name, set()).add(achall.validation(achall.account_key))
    planned = {record["name"]: record for record in plan.get("records", [])}
    if not expected or not set(expected) <= set(planned):
        return None
    targets = [
        Target(name, planned[name]["query"], frozenset(values), Nameserver(**server))
        for name, values in sorted(expected.items())
        for server in planned[name]["nameservers"]
    ]
    return targets or None


def wait_until_shown(targets: list[Target], maximum: float, *, account: str) -> None:
    """Ask until every target shows its values (silent servers aside, see SILENT_GRACE_SECONDS); raise
    certbot's PluginError after ``maximum`` seconds."""
    servers = sorted({str(target.server) for target in targets})
    records = {target.record for target in targets}
    display_util.notify(
        f"certmate: asking {len(servers)} nameserver(s) for {len(records)} TXT record(s), at most {maximum} s: "
        + ", ".join(servers)
    )
    with ThreadPoolExecutor(max_workers=min(len(targets), PARALLEL_QUESTIONS)) as pool:
        _ask_until_shown(targets, maximum, account, pool)


def _ask_until_shown(targets: list[Target], maximum: float, account: str, pool: ThreadPoolExecutor) -> None:
    clock = time.monotonic
    start = clock()
    delay, reported = FIRST_DELAY, start
    pending = list(targets)
    while True:
        # All at once: a round lasts as long as the slowest nameserver, not as long as all of them.
        list(pool.map(lambda target: ask(target, timeout=QUERY_SECONDS), pending))
        elapsed = clock() - start
        pending = [target for target in pending if target.state != SHOWN]
        pending = _without_silent(pending, targets, elapsed)
        if not pending:
            display_util.notify(f"certmate: every nameserver shows the records after {elapsed:.1f} s")
            return
        if elapsed >= maximum:
            raise errors.PluginError(_not_propagated(pending, maximum, account))
        if clock() - reported >= PROGRESS_EVERY:
            reported = clock()
            display_util.notify(f"certmate: still waiting after {elapsed:.0f} s: {pending[0]}")
        time.sleep(min(delay, max(0.0, maximum - elapsed)))
        delay = min(delay * 1.5, LONGEST_DELAY)


def _without_silent(pending: list[Target], targets: list[Target], elapsed: float) -> list[Target]:
    if elapsed < SILENT_GRACE_SECONDS:
        return pending
    shown = {target.record for target in targets if target.state == SHOWN}
    kept = []
    for target in pending:
        if target.state == SILENT and not target.answered and target.record in shown:
            display_util.notify(f"certmate: not waiting for nameserver {target}: the others show it")
        else:
            kept.append(target)
    return kept


def ask(target: Target, *, timeout: float) -> None:
    """One question to the target's nameserver: its state and what it said."""
    query = dns.message.make_query(target.query, dns.rdatatype.TXT)
    query.flags &= ~dns.flags.RD  # the server's own data, not what it might find elsewhere
    try:
        server = target.server
        response, _ = dns.query.udp_with_fallback(query, server.address, timeout=timeout, port=server.port)
    except (dns.exception.DNSException, OSError) as exc:
        target.state, target.said = SILENT, f"gave no answer ({type(exc).__name__}) for"
        return
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        target.state, target.said = SILENT, f"answered {dns.rcode.to_text(rcode).lower()} for"
        return
    if not response.flags & dns.flags.AA:
        target.state, target.said = SILENT, "answered without authority (not a nameserver of the zone?) for"
        return
    target.answered = True
    values = _txt_values(response, dns.name.from_text(target.query))
    if target.values <= values:
        target.state, target.said = SHOWN, "shows"
    elif values:
        target.state, target.said = STALE, "answered other values only for"
    else:
        target.state, target.said = STALE, "answered without"


def _txt_values(response: dns.message.Message, name: dns.name.Name) -> set[str]:
    """The TXT strings for ``name`` in the answer, following a CNAME chain inside it (at most 8 links)."""
    for _ in range(8):
        rrsets = {(rrset.name, rrset.rdtype): rrset for rrset in response.answer}
        txt = rrsets.get((name, dns.rdatatype.TXT))
        if txt is not None:
            return {b"".join(rdata.strings).decode(errors="replace") for rdata in txt}
        cname = rrsets.get((name, dns.rdatatype.CNAME))
        if cname is None:
            return set()
        name = cname[0].target
    return set()


def _not_propagated(pending: list[Target], maximum: float, account: str) -> str:
    """The reason, short enough for one line (the first nameserver, a stale copy first), after the
    whole story in certbot's output."""
    pending = sorted(pending, key=lambda target: not target.answered)
    where = f"DNS account {account}" if account else "the DNS account"
    for target in pending:
        display_util.notify(f"certmate: after {maximum:g} s, nameserver {target}")
    display_util.notify(
        "certmate: a nameserver that answers without the records does not get the zone's changes: check its "
        "zone transfers (and NOTIFY) from the primary; one that never answers must answer for the zone or leave "
        f"its NS records. Meanwhile {where} can wait longer (its propagation time) or wait without asking "
        "(its propagation check set to fixed)."
    )
    first = pending[0]
    more = f" (and {len(pending) - 1} more)" if len(pending) > 1 else ""
    fix = "fix its zone transfers" if first.answered else "make it answer for the zone"
    return f"{NOT_PROPAGATED} within {maximum:g} s: {first}{more}; {fix}, or set {where} to a fixed wait"
