"""DNS propagation: the same DNS-01 order with the plugin's default fixed wait, with a 1-second fixed wait,
and with the active check (the zone's nameservers asked until they show the records, at most 60 s).

    .venv/bin/python bench/propagation.py [--runs 3] [--keep]

One Pebble validating through one BIND9 on loopback; the rfc2136 plugin writes the records into that
BIND9, which the active check finds from the zone's NS records (CERTMATE_DNS_RESOLVERS and
CERTMATE_DNS_QUERY_PORT point at it). Each order is certmate's whole in-process path:
certificate_request() then certificate_issue() in the worker's code, timed until the version is stored.
One unmeasured warm-up order registers the ACME account; the 1-second and active orders then alternate
--runs times, and the default wait runs once (it is a minute). Prints the three times and the ratio
active / 1-second (aim <= 1.3x). Exits 0 whatever the ratio, 1 when an order failed.

Runs in a throw-away database `<name>_bench` (see bench/tenant_create.py), dropped afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AIM = 1.3
ACTIVE_MAX_SECONDS = 60


class OrderFailed(RuntimeError):
    pass


def order(tenant, ca, dns, name: str) -> float:
    """Seconds for one in-process order of ``name`` with these accounts, until its version is stored."""
    from django_tenants.utils import tenant_context

    from apps.certificates.models import JobStatus
    from apps.certificates.services import certificate_issue, certificate_request
    from certmate.actors import Actor

    with tenant_context(tenant):
        started = time.perf_counter()
        job = certificate_request(identifier=name, ca_account=ca, dns_account=dns, actor=Actor.command())
        job = certificate_issue(job_id=job.pk)
        seconds = time.perf_counter() - started
    if job.status != JobStatus.SUCCEEDED:
        raise OrderFailed(f"{name}: {job.error}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured 1-second and active orders each")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    from tests.e2e.servers import Bind9, Pebble, ToolMissingError

    missing = Bind9.missing_reason() or Pebble.missing_reason()
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    from bench.issuance import ZONE, dns_and_ca, tenant_on_bench_database

    with contextlib.ExitStack() as cleanup:
        try:
            bind9, pebble = dns_and_ca(cleanup)
        except ToolMissingError as exc:
            print(f"cannot run: {exc}", file=sys.stderr)
            return 2
        # Read by the settings at django.setup(): the zone's NS records are found through this BIND9.
        os.environ["CERTMATE_DNS_RESOLVERS"] = f"{bind9.host}:{bind9.port}"
        os.environ["CERTMATE_DNS_QUERY_PORT"] = str(bind9.port)

        _, tenant = tenant_on_bench_database(
            cleanup, prefix="certmate-bench-propagation-", slug="bench", host="bench.localhost", keep=args.keep
        )
        from tests.e2e.issuance import accounts_for, unique

        ca, default = accounts_for(tenant, pebble, bind9, propagation_seconds=None, propagation_check="fixed")
        _, one_second = accounts_for(tenant, pebble, bind9, propagation_seconds=1, propagation_check="fixed")
        _, active = accounts_for(tenant, pebble, bind9, propagation_seconds=ACTIVE_MAX_SECONDS, check_nameservers=[])
        try:
            print("warm-up: one order (registers the ACME account)", file=sys.stderr)
            order(tenant, ca, one_second, f"warm.{ZONE}")
            fixed_one, checked = [], []
            for number in range(args.runs):
                fixed_one.append(order(tenant, ca, one_second, f"{unique('one')}.{ZONE}"))
                checked.append(order(tenant, ca, active, f"{unique('active')}.{ZONE}"))
                print(f"  run {number + 1}/{args.runs}: 1-second wait {fixed_one[-1]:.2f} s, "
                      f"active check {checked[-1]:.2f} s", file=sys.stderr)  # fmt: skip
            print("the plugin's default wait (once)", file=sys.stderr)
            plugin_default = order(tenant, ca, default, f"{unique('default')}.{ZONE}")
        except OrderFailed as exc:
            print(f"an order failed: {exc}")
            return 1
    report(plugin_default, statistics.median(fixed_one), statistics.median(checked), runs=args.runs)
    return 0


def report(plugin_default: float, one_second: float, active: float, *, runs: int) -> None:
    from apps.certificates.acme.providers import get_provider

    seconds = get_provider("rfc2136").default_propagation_seconds
    ratio = active / one_second
    print(f"one DNS-01 order, Pebble + BIND9 on loopback (medians of {runs} for the last two):")
    rows = [
        (f"plugin's default fixed wait ({seconds} s)", plugin_default),
        ("1-second fixed wait", one_second),
        (f"active check (at most {ACTIVE_MAX_SECONDS} s)", active),
    ]
    for label, value in rows:
        print(f"  {label:<38} {value:7.2f} s")
    verdict = "within" if ratio <= AIM else "OVER"
    print(f"ratio active / 1-second: {ratio:.2f}x ({verdict} the {AIM}x aim); "
          f"active / default wait: {active / plugin_default:.2f}x")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
