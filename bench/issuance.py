"""Issuing one certificate: certmate's full path against a bare `certbot certonly`, same Pebble + BIND9.

    .venv/bin/python bench/issuance.py [--runs 10] [--key-type ec256] [--keep]

Full path: certificate_request() in a tenant -> the broker -> one real Celery worker (prefork,
concurrency 1) -> certbot -> a stored CertificateVersion, timed from the call until the Job row says
succeeded. Bare: the same DNS-01 order as an operator would type it, timed as one subprocess. Both run
against one Pebble validating through one BIND9 on loopback, interleaved (full, bare, full, ...), after
one unmeasured warm-up order each so that neither side pays for registering its ACME account.

Runs in a throw-away database `<name>_bench` (see bench/tenant_create.py), dropped afterwards unless
--keep. The broker is kombu's filesystem transport in a fresh temporary folder, or CELERY_BROKER_URL's
server when that is set (its queue is shared with whatever else uses it, and is not purged).
Prints both medians and their ratio; the aim is full path <= 1.10 x bare certbot. Exits 0 whatever
the ratio, 1 when an order failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AIM = 1.10
ZONE = "certmate.test"  # the zone Bind9() serves by default
EMAIL = "admin@certmate.test"
POLL_SECONDS = 0.02
ORDER_TIMEOUT = 300.0
WORKER_READY_TIMEOUT = 60.0
CONCURRENCY = 1


@dataclass
class FullRun:
    name: str
    seconds: float  # certificate_request() called -> Job row seen succeeded
    queue_seconds: float  # certificate_request() called -> job.started_at (worker claimed it)
    worker_seconds: float  # job.started_at -> job.finished_at
    certbot_cpu: float | None  # CPU of the worker's children (certbot) during the order, if /proc tells
    worker_cpu: float | None  # CPU of the worker's pool process itself during the order


@dataclass
class BareRun:
    name: str
    seconds: float
    cpu: float  # user + system CPU of the certbot process


class OrderFailed(Exception):
    pass


# ------------------------------------------------------------------------------------------ worker


class CeleryWorker:
    """One `celery worker` child process on the bench database and broker; stopped by stop()."""

    def __init__(self, log_path: Path, env: dict[str, str], concurrency: int = CONCURRENCY) -> None:
        self.log_path = log_path
        self.env = env
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from tests.e2e.servers import _die_with_parent

        argv = [
            sys.executable, "-m", "celery", "-A", "certmate", "worker",
            "--pool", "prefork", "--concurrency", str(self.concurrency),
            # INFO, not WARNING: celery logs "<hostname> ready." at INFO and nothing else says so.
            "--loglevel", "INFO",
            "--without-heartbeat", "--without-mingle", "--without-gossip",
            "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent(),
            )
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while " ready." not in self.log_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Celery worker was not ready within {WORKER_READY_TIMEOUT:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes (children of the main worker process), from /proc."""
        if not self.alive():
            return []
        assert self.process is not None
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown: the pool child goes with it
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_cpu(pid: int) -> tuple[float, float] | None:
    """(own CPU, CPU of waited-for children) in seconds, from /proc/<pid>/stat; None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may contain anything.
    fields = stat.rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(value) / tick for value in fields[11:15])
    return utime + stime, cutime + cstime


def worker_cpu(worker: CeleryWorker) -> dict[int, tuple[float, float]]:
    return {pid: cpu for pid in worker.pool_pids() if (cpu := process_cpu(pid)) is not None}


def cpu_deltas(
    before: dict[int, tuple[float, float]], after: dict[int, tuple[float, float]]
) -> tuple[float | None, float | None]:
    common = before.keys() & after.keys()
    if not common:  # the pool process was replaced (or /proc is not there): no figure
        return None, None
    own = sum(after[pid][0] - before[pid][0] for pid in common)
    children = sum(after[pid][1] - before[pid][1] for pid in common)
    return children, own


# ----------------------------------------------------------------------------------------- orders


def full_order(tenant, ca, dns, worker: CeleryWorker, name: str, key_type: str) -> FullRun:
    from django_tenants.utils import tenant_context

    from apps.certificates.models import Job, JobStatus
    from apps.certificates.services.requests import certificate_request
    from certmate.actors import Actor

    cpu_before = worker_cpu(worker)
    with tenant_context(tenant):
        requested_at = time.time()
        started = time.perf_counter()
        job = certificate_request(
            identifier=name, key_type=key_type, ca_account=ca, dns_account=dns, actor=Actor.command(name="bench")
        )
        deadline = started + ORDER_TIMEOUT
        while True:
            job = Job.objects.get(pk=job.pk)
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            if time.perf_counter() > deadline:
                raise OrderFailed(f"full path {name}: job {job.pk} still {job.status} after {ORDER_TIMEOUT:.0f} s")
            if not worker.alive():
                raise OrderFailed(f"full path {name}: the Celery worker died:\n{worker.log_tail()}")
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
    certbot_cpu, own_cpu = cpu_deltas(cpu_before, worker_cpu(worker))
    if job.status != JobStatus.SUCCEEDED:
        raise OrderFailed(f"full path {name}: job {job.pk} failed: {job.error}\n{job.output[-3000:]}")
    if job.version_id is None:
        raise OrderFailed(f"full path {name}: job {job.pk} succeeded without creating a certificate version")
    return FullRun(
        name=name,
        seconds=seconds,
        queue_seconds=job.started_at.timestamp() - requested_at,
        worker_seconds=(job.finished_at - job.started_at).total_seconds(),
        certbot_cpu=certbot_cpu,
        worker_cpu=own_cpu,
    )


@dataclass
class BareCertbot:
    """`certbot certonly` as an operator types it, with one config folder (so one account) for all runs."""

    pebble: object
    credentials: Path
    workdir: Path
    key_args: list[str]

    def argv(self, name: str, cert_name: str) -> list[str]:
        from tests.e2e.servers import certbot_binary

        return [
            str(certbot_binary()),
            "certonly",
            "--non-interactive",
            "--agree-tos",
            "-m", EMAIL,
            "--server", self.pebble.directory_url,
            "--config-dir", str(self.workdir / "config"),
            "--work-dir", str(self.workdir / "work"),
            "--logs-dir", str(self.workdir / "logs"),
            "--dns-rfc2136",
            "--dns-rfc2136-credentials", str(self.credentials),
            "--dns-rfc2136-propagation-seconds", "1",
            "--cert-name", cert_name,
            "-d", name,
            *self.key_args,
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["REQUESTS_CA_BUNDLE"] = str(self.pebble.ca_bundle)
        env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
        return env

    def order(self, name: str) -> BareRun:
        from tests.e2e.servers import live_dir

        cert_name = name.split(".", 1)[0]
        argv, env = self.argv(name, cert_name), self.env()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=ORDER_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise OrderFailed(f"bare certbot {name}: did not finish within {ORDER_TIMEOUT:.0f} s") from None
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0 or not (live_dir(self.workdir, cert_name) / "cert.pem").exists():
            output = (result.stdout + result.stderr)[-3000:]
            raise OrderFailed(f"bare certbot {name}: exit {result.returncode}\n{output}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return BareRun(name=name, seconds=seconds, cpu=cpu)


def write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


# ----------------------------------------------------------------------------------------- report


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} s  (min {min(values):.3f}, max {max(values):.3f})"


def report(full: list[FullRun], bare: list[BareRun], *, broker: str, key_type: str) -> None:
    print()
    print(f"key type {key_type}, worker: 1 process, prefork, concurrency {CONCURRENCY}; broker: {broker}")
    if not full and not bare:
        return
    print(
        f"{'run':>4}  {'full path':>9}  {'queue':>6}  {'worker':>6}  {'certbot cpu':>11}  {'bare':>6}  {'bare cpu':>8}"
    )
    for number in range(max(len(full), len(bare))):
        f = full[number] if number < len(full) else None
        b = bare[number] if number < len(bare) else None
        cells = [
            f"{number + 1:>4}",
            f"{f.seconds:9.3f}" if f else " " * 9,
            f"{f.queue_seconds:6.3f}" if f else " " * 6,
            f"{f.worker_seconds:6.3f}" if f else " " * 6,
            f"{f.certbot_cpu:11.2f}" if f and f.certbot_cpu is not None else f"{'-':>11}",
            f"{b.seconds:6.3f}" if b else " " * 6,
            f"{b.cpu:8.2f}" if b else " " * 8,
        ]
        print("  ".join(cells))
    print()
    if full:
        print(f"full path, request -> stored:  {spread([r.seconds for r in full])}  over {len(full)} runs")
        print(f"  queue latency (-> started):  {spread([r.queue_seconds for r in full])}")
        print(f"  worker time (started->done): {spread([r.worker_seconds for r in full])}")
        certbot_cpu = [r.certbot_cpu for r in full if r.certbot_cpu is not None]
        if certbot_cpu:
            print(f"  certbot CPU in the worker:   {statistics.median(certbot_cpu):7.3f} s  (median)")
        own_cpu = [r.worker_cpu for r in full if r.worker_cpu is not None]
        if own_cpu:
            print(f"  worker's own CPU:            {statistics.median(own_cpu):7.3f} s  (median)")
    if bare:
        print(f"bare certbot certonly:         {spread([r.seconds for r in bare])}  over {len(bare)} runs")
        print(f"  certbot CPU:                 {statistics.median([r.cpu for r in bare]):7.3f} s  (median)")
    if full and bare:
        ratio = statistics.median([r.seconds for r in full]) / statistics.median([r.seconds for r in bare])
        verdict = "met" if ratio <= AIM else "missed"
        print(f"ratio full / bare (medians):   {ratio:7.3f}x  (aim <= {AIM:.2f}x: {verdict})")


def broker_in_use(folder: Path) -> str:
    """What the settings send tasks to; refuses a filesystem broker in any folder but the bench's own."""
    from django.conf import settings
    from kombu.utils.url import maybe_sanitize_url

    url = settings.CELERY_BROKER_URL
    if not url.startswith("filesystem://"):
        return f"{maybe_sanitize_url(url)} (CELERY_BROKER_URL)"
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if Path(options["data_folder_in"]).parent != folder:
        raise RuntimeError(f"the settings' broker folder is {options['data_folder_in']}, not the bench's {folder}")
    return f"kombu filesystem transport in a fresh folder (polling every {options['polling_interval']} s)"


# ------------------------------------------------------------------------------------------- main


def main() -> int:
    from apps.certificates.acme.runner import KEY_TYPE_ARGS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured orders per side (interleaved)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--key-type", default="ec256", choices=sorted(KEY_TYPE_ARGS), help="key of every order")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    from tests.e2e.servers import Bind9, Pebble, ToolMissingError, certbot_binary

    missing = Bind9.missing_reason() or Pebble.missing_reason()
    if missing is None and not certbot_binary().exists():
        missing = f"certbot is not installed in {certbot_binary().parent}"
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2

    full: list[FullRun] = []
    bare: list[BareRun] = []
    failure: str | None = None
    broker = ""
    with contextlib.ExitStack() as cleanup:
        temp = Path(tempfile.mkdtemp(prefix="certmate-bench-issuance-"))
        cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
        try:
            bind9, pebble = dns_and_ca(cleanup)
        except ToolMissingError as exc:
            print(f"cannot run: {exc}", file=sys.stderr)
            return 2

        broker_dir = temp / "broker"
        broker_dir.mkdir()
        url, broker = django_on_bench_database(cleanup, broker_dir, keep=args.keep)
        from django.core.management import call_command

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from certmate.actors import Actor
        from tests.e2e.issuance import accounts_for

        print(f"database {url.split('/')[3].split('?')[0]}, broker: {broker}", file=sys.stderr)
        with contextlib.redirect_stdout(io.StringIO()):  # migrations print what they apply
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            tenant_ensure_public(domains=["localhost"])
            tenant = tenant_create(slug="bench", domain="bench.localhost", actor=Actor.command())
        # The same accounts the end-to-end tests use; DNS propagation 1 s, as the bare run's.
        ca, dns = accounts_for(tenant, pebble, bind9)

        worker = CeleryWorker(temp / "worker.log", env=dict(os.environ))
        cleanup.callback(worker.stop)
        worker.start()

        bare_dir = temp / "bare"
        bare_dir.mkdir()
        ini = "".join(f"{key} = {value}\n" for key, value in bind9.rfc2136_credentials().items())
        certbot = BareCertbot(
            pebble=pebble,
            credentials=write_private(bare_dir / "rfc2136.ini", ini),
            workdir=bare_dir,
            key_args=KEY_TYPE_ARGS[args.key_type],
        )

        try:
            # Warm-up, not measured: each side registers its ACME account here (the full path stores it
            # in the database, the bare side in its config folder, which every measured run reuses).
            print("warm-up: one order each (registers both ACME accounts)", file=sys.stderr)
            full_order(tenant, ca, dns, worker, f"fwarm.bench.{ZONE}", args.key_type)
            certbot.order(f"bwarm.bench.{ZONE}")
            for number in range(args.runs):
                f = full_order(tenant, ca, dns, worker, f"f{number}.bench.{ZONE}", args.key_type)
                full.append(f)
                b = certbot.order(f"b{number}.bench.{ZONE}")
                bare.append(b)
                print(
                    f"  run {number + 1}/{args.runs}: full {f.seconds:.3f} s (queue {f.queue_seconds:.3f}, "
                    f"worker {f.worker_seconds:.3f}), bare {b.seconds:.3f} s",
                    file=sys.stderr,
                )
        except OrderFailed as exc:
            failure = str(exc)

    report(full, bare, broker=broker, key_type=args.key_type)
    if failure:
        print(f"\nan order failed: {failure}")
        return 1
    return 0


def dns_and_ca(cleanup: contextlib.ExitStack):
    """A BIND9 serving ZONE and a Pebble validating through it, stopped with ``cleanup``."""
    from tests.e2e.servers import Bind9, Pebble

    bind9 = cleanup.enter_context(Bind9(zones=[ZONE]))
    # No injected badNonce rejections (Pebble's default is 5%): an order would pay for a retry by chance,
    # which is noise here, not a cost of the path being measured.
    return bind9, cleanup.enter_context(Pebble(dns_port=bind9.port, nonce_reject_percent=0))


def django_on_bench_database(cleanup: contextlib.ExitStack, broker_dir: Path, *, keep: bool) -> tuple[str, str]:
    """Django set up on a fresh bench database and a broker folder of the bench's own: (url, broker)."""
    from bench.tenant_create import bench_database, drop_database

    # Before bench_database(): with the embedded server it imports certmate.settings.base, which reads
    # these once. A broker folder read too early is var/broker, where no bench worker listens.
    os.environ["DJANGO_SETTINGS_MODULE"] = "certmate.settings.dev"
    os.environ["CERTMATE_BROKER_DIR"] = str(broker_dir)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url, admin = bench_database()
    if not keep:
        cleanup.callback(drop_database, admin, url)
    # Runs before drop_database (callbacks run last-in first-out): no open connection to the dropped DB.
    cleanup.callback(close_connections)
    os.environ["DATABASE_URL"] = url

    import django

    django.setup()
    return url, broker_in_use(broker_dir)


def tenant_on_bench_database(cleanup: contextlib.ExitStack, *, prefix: str, slug: str, host: str, keep: bool):
    """A temporary folder (removed at the end, its broker/ inside) and one tenant ``slug`` on ``host``, on a
    fresh bench database: (folder, tenant)."""
    temp = Path(tempfile.mkdtemp(prefix=prefix))
    cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
    (temp / "broker").mkdir()
    django_on_bench_database(cleanup, temp / "broker", keep=keep)
    from django.core.management import call_command

    from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
    from certmate.actors import Actor

    with contextlib.redirect_stdout(io.StringIO()):
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        tenant_ensure_public(domains=["localhost"])
        return temp, tenant_create(slug=slug, domain=host, actor=Actor.command())


def close_connections() -> None:
    from django.db import connections

    connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
