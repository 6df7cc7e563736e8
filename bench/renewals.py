"""Renewing 200 due certificates over 4 tenants: certmate's workers vs a sequential certbot loop.

    .venv/bin/python bench/renewals.py [--certificates 200] [--tenants 4] [--concurrency 16]
                                       [--baseline N] [--keep]

Against one Pebble validating DNS-01 through one BIND9 (1 s propagation). The certificates start
due (a synthetic current version each); their CA accounts are registered before timing. Full path:
one sweep (`renewal_sweep_all`, no jitter) queues a renewal job per certificate and one Celery worker
(prefork, --concurrency) renews them all; timed until every job has finished. Baseline: the same
orders as bare `certbot certonly` runs one after another in this process (all of them, or the first
--baseline N and the total extrapolated — printed as such). Prints both walls, the ratio (aim: the
workers at least 8x faster on this 2-core machine), and CPU per renewal on each side.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.issuance import (  # noqa: E402
    ZONE,
    BareCertbot,
    CeleryWorker,
    OrderFailed,
    django_on_bench_database,
    worker_cpu,
    write_private,
)

AIM = 8.0


def due_certificates(tenant, ca, dns, names: list[str]) -> None:
    """Certificates as if issued long ago and now due: a synthetic current version each."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.certificates.models import Certificate, CertificateVersion

    now = timezone.now()
    with tenant_context(tenant):
        for name in names:
            cert = Certificate.objects.create(
                identifier=name, ca_account=ca, dns_account=dns, status="active", renew_at=now - timedelta(hours=1)
            )
            version = CertificateVersion.objects.create(
                certificate=cert, number=1, serial="01", not_before=now - timedelta(days=80),
                not_after=now + timedelta(days=10), subject=f"CN={name}", issuer="CN=bench", san=[name],
                key_algorithm="EC", key_size=256, fingerprint_sha256=f"{cert.pk:064x}", certificate_pem="",
                chain_pem="", fullchain_pem="", private_key="synthetic",
            )  # fmt: skip
            Certificate.objects.filter(pk=cert.pk).update(current_version=version)


def cpu_total(samples: dict[int, tuple[float, float]]) -> float:
    return sum(own + children for own, children in samples.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="worker processes renewing at once")
    parser.add_argument("--baseline", type=int, default=None, help="sequential orders to time (default: all)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from tests.e2e.servers import Bind9, Pebble

    with contextlib.ExitStack() as cleanup:
        temp = Path(tempfile.mkdtemp(prefix="certmate-bench-renewals-"))
        cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
        bind9 = cleanup.enter_context(Bind9(zones=[ZONE]))
        pebble = cleanup.enter_context(Pebble(dns_port=bind9.port, nonce_reject_percent=0))
        broker_dir = temp / "broker"
        broker_dir.mkdir()
        _, broker = django_on_bench_database(cleanup, broker_dir, keep=args.keep)
        from django.core.management import call_command
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.certificates.acme.accounts import ca_account_ensure_registered
        from apps.certificates.models import Job, JobStatus
        from apps.certificates.services.renewals import renewal_sweep_all
        from certmate.actors import Actor
        from tests.e2e.issuance import accounts_for

        with contextlib.redirect_stdout(io.StringIO()):
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            tenant_ensure_public(domains=["localhost"])
        names = [f"r{i}.bench.{ZONE}" for i in range(args.certificates)]
        per_tenant = -(-len(names) // args.tenants)
        tenants = []
        for number in range(args.tenants):
            tenant = tenant_create(slug=f"renew{number}", domain=f"renew{number}.localhost", actor=Actor.command())
            ca, dns = accounts_for(tenant, pebble, bind9)
            with tenant_context(tenant):
                ca_account_ensure_registered(actor=Actor.command(), ca_account_id=ca.pk)  # not part of what is timed
            due_certificates(tenant, ca, dns, names[number * per_tenant : (number + 1) * per_tenant])
            tenants.append(tenant)

        worker = CeleryWorker(temp / "worker.log", env=dict(os.environ), concurrency=args.concurrency)
        cleanup.callback(worker.stop)
        worker.start()

        print(f"renewing {len(names)} certificates over {args.tenants} tenants...", file=sys.stderr)
        cpu_before = cpu_total(worker_cpu(worker))
        started = time.perf_counter()
        sweeps = renewal_sweep_all(slugs=[t.schema_name for t in tenants], jitter_seconds=0)
        failed = []
        for summary, tenant in zip(sweeps, tenants, strict=True):
            with tenant_context(tenant):
                jobs = Job.objects.filter(sweep=summary.sweep)
                while jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
                    if not worker.alive():
                        raise OrderFailed(f"the worker died:\n{worker.log_tail()}")
                    time.sleep(0.1)
                failed += list(jobs.filter(status=JobStatus.FAILED).values_list("certificate__identifier", "error"))
        full_wall = time.perf_counter() - started
        full_cpu = cpu_total(worker_cpu(worker)) - cpu_before
        renewed = sum(s.sweep.queued for s in sweeps) - len(failed)

        bare_dir = temp / "bare"
        bare_dir.mkdir()
        ini = "".join(f"{key} = {value}\n" for key, value in bind9.rfc2136_credentials().items())
        from apps.certificates.acme.runner import KEY_TYPE_ARGS

        certbot = BareCertbot(pebble, write_private(bare_dir / "rfc2136.ini", ini), bare_dir, KEY_TYPE_ARGS["ec256"])
        certbot.order(f"warm.bench.{ZONE}")  # registers the bare account, not timed
        sample = names[: args.baseline] if args.baseline else names
        print(f"sequential baseline: {len(sample)} bare certbot orders...", file=sys.stderr)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        for name in sample:
            certbot.order(name)
        bare_wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        bare_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)

    sequential = bare_wall * len(names) / len(sample)
    ratio = sequential / full_wall
    print()
    print(f"broker: {broker}; worker: prefork, concurrency {args.concurrency}")
    print(f"certificates due: {len(names)} over {args.tenants} tenants; renewed {renewed}, failed {len(failed)}")
    print(f"workers, all renewals:        {full_wall:8.1f} s   ({full_wall / len(names):.2f} s per renewal)")
    label = (
        "sequential certbot loop:"
        if len(sample) == len(names)
        else f"sequential ({len(sample)} timed, x{len(names) / len(sample):.1f}):"
    )
    print(f"{label:<30}{sequential:8.1f} s   ({bare_wall / len(sample):.2f} s per order)")
    print(f"CPU per renewal: workers {full_cpu / len(names):.2f} s, bare certbot {bare_cpu / len(sample):.2f} s")
    print(f"ratio sequential / workers:   {ratio:8.1f}x  (aim >= {AIM:.0f}x: {'met' if ratio >= AIM else 'missed'})")
    for identifier, error in failed[:10]:
        print(f"  failed {identifier}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
