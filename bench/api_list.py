"""Reading certificates over HTTP from a tenant with 10,000 of them: the list and a detail, against a
request that does almost nothing (GET /api/health) measured in the same run.

    .venv/bin/python bench/api_list.py [--certificates 10000] [--requests 300] [--keep]

A real server process (the stdlib's wsgiref serving certmate's WSGI application, DEBUG off, persistent
database connections as in production) on a throw-away database `<name>_bench` (see
bench/tenant_create.py). One tenant gets the certificates, bulk-created with a version each (real PEM
material and an encrypted key per row, as issuance stores them). A client on one keep-alive-less
connection per request sends, interleaved: GET /api/health, GET /api/certificates?limit=50&offset=<random>,
GET /api/certificates/<random domain>, with an operator's bearer token. Prints p50 and p95 of each, their
ratios to the health baseline, and the time of one unpaged list of everything.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "apibench.localhost"
BATCH = 1000


def serve(port: int) -> None:
    """The server process: certmate's WSGI application on 127.0.0.1:port, quiet."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    with make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet) as server:
        server.serve_forever()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tenant_with_certificates(count: int) -> tuple[list[str], str]:
    """The bench tenant, ``count`` certificates with one version each, and an operator's token."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
    from apps.accounts.services.tokens import token_create
    from apps.accounts.services.users import user_create
    from apps.certificates.acme.accounts import ca_account_create
    from apps.certificates.acme.dns_accounts import dns_account_create
    from apps.certificates.models import Certificate, CertificateVersion
    from apps.certificates.parsing import certificate_facts
    from certmate.actors import Actor
    from tests.factories import RFC2136, material

    with contextlib.redirect_stdout(io.StringIO()):  # migrations print what they apply
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        tenant_ensure_public(domains=["localhost"])
        tenant = tenant_create(slug="apibench", domain=HOST, actor=Actor.command())
    names = [f"host{number:05}.bench.example" for number in range(count)]
    issued = material([names[0]])  # one real certificate's material, stored in every row
    facts = certificate_facts(issued.cert_pem).__dict__
    now = timezone.now()
    with tenant_context(tenant):
        ca = ca_account_create(
            actor=Actor.command(), name="le", directory="letsencrypt", email="ops@example.com", is_default=True
        )
        dns = dns_account_create(
            actor=Actor.command(), name="bind", provider="rfc2136", credentials=RFC2136, is_default=True
        )
        for start in range(0, count, BATCH):
            batch = Certificate.objects.bulk_create(
                Certificate(
                    identifier=name,
                    san_domains=[f"www.{name}"],
                    ca_account=ca,
                    dns_account=dns,
                    status="active",
                    renew_at=now,
                )
                for name in names[start : start + BATCH]
            )
            CertificateVersion.objects.bulk_create(
                CertificateVersion(
                    certificate=certificate,
                    number=1,
                    certificate_pem=issued.cert_pem,
                    chain_pem=issued.chain_pem,
                    fullchain_pem=issued.fullchain_pem,
                    private_key=issued.key_pem,
                    **{**facts, "fingerprint_sha256": f"{certificate.pk:064x}", "san": certificate.names},
                )
                for certificate in batch
            )
        current = CertificateVersion.objects.filter(certificate_id=OuterRef("pk")).values("pk")[:1]
        Certificate.objects.update(current_version_id=Subquery(current))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would soon after a bulk load
        user = user_create(
            email="ops@apibench.localhost", password=secrets.token_urlsafe(16), role="operator", actor=Actor.command()
        )
        _, token = token_create(user=user, role="operator", name="bench", actor=Actor.command())
    return names, token


class Client:
    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    def get(self, path: str) -> tuple[float, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Host": HOST, "Authorization": f"Bearer {self.token}"}
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return elapsed, body


def server_start(cleanup: contextlib.ExitStack, temp: Path, env: dict[str, str]) -> tuple[int, subprocess.Popen, Path]:
    """The server process (this file's ``--serve``) on a free port, stopped by ``cleanup``, with more
    environment ``env``: (its port, the process, its log)."""
    from tests.e2e.servers import _die_with_parent

    port = free_port()
    log = temp / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_CONN_MAX_AGE": "60", **env},  # persistent connections, as in production
            stdout=out,
            stderr=out,
            preexec_fn=_die_with_parent(),
        )
    cleanup.callback(server.wait)
    cleanup.callback(server.terminate)
    return port, server, log


def wait_until_up(client, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/api/health")
            return
        except (OSError, RuntimeError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def arguments(doc: str, *, requests: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=requests, help="measured requests of each kind")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process itself
    return parser.parse_args()


def bench_django(cleanup: contextlib.ExitStack, prefix: str, *, keep: bool) -> Path:
    """Django on a fresh bench database, DEBUG off; a temporary folder (removed by ``cleanup``)."""
    from bench.issuance import django_on_bench_database

    temp = Path(tempfile.mkdtemp(prefix=prefix))
    cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    django_on_bench_database(cleanup, temp, keep=keep)
    return temp


def measure(client, kinds: dict, requests: int) -> dict[str, list[float]]:
    """After a warm-up, ``requests`` GETs of each kind, interleaved: {kind: seconds of each}."""
    for _ in range(20):  # warm-up: imports, connections, caches
        for path in kinds.values():
            client.get(path())
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(requests):
        for kind, path in kinds.items():
            samples[kind].append(client.get(path())[0])
    return samples


def main() -> int:
    args = arguments(__doc__, requests=300)
    if args.serve:
        serve(args.serve)
        return 0

    with contextlib.ExitStack() as cleanup:
        temp = bench_django(cleanup, "certmate-bench-api-", keep=args.keep)
        print(f"creating {args.certificates} certificates...", file=sys.stderr)
        started = time.perf_counter()
        names, token = tenant_with_certificates(args.certificates)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        # Measuring the API, not its throttle.
        port, server, log = server_start(cleanup, temp, {"CERTMATE_API_RATE_USER": "1000000/min"})
        client = Client(port, token)
        wait_until_up(client, server, log)

        pages = max(1, args.certificates // 50)
        pick = random.Random(7)  # noqa: S311 - the same pages and domains each run, not a secret
        kinds = {
            "GET /api/health": lambda: "/api/health",
            "GET /api/certificates?limit=50": lambda: f"/api/certificates?limit=50&offset={pick.randrange(pages) * 50}",
            "GET /api/certificates/{domain}": lambda: f"/api/certificates/{pick.choice(names)}",
        }
        samples = measure(client, kinds, args.requests)
        whole = []
        for _ in range(3):
            elapsed, body = client.get("/api/certificates")
            whole.append(elapsed)
        assert body.count(b'"domain"') == args.certificates, "the unpaged list must hold every certificate"

    report(samples, whole, args)
    return 0


def report_table(samples: dict[str, list[float]], args, *, aim_ms: float | None = None) -> None:
    """p50 and p95 of each kind and their ratios to the first kind (the baseline); with ``aim_ms``,
    whether each p95 is under it."""
    baseline_kind = next(iter(samples))
    base50, base95 = percentile(samples[baseline_kind], 0.50), percentile(samples[baseline_kind], 0.95)
    print(f"\n{args.certificates} certificates, {args.requests} requests of each kind (interleaved), wsgiref server\n")
    aim_header = "aim" if aim_ms else ""
    print(f"{'request':34} {'p50 ms':>8} {'p95 ms':>8} {'p50 x health':>13} {'p95 x health':>13}  {aim_header}")
    for kind, values in samples.items():
        p50, p95 = percentile(values, 0.50), percentile(values, 0.95)
        aim = "" if not aim_ms or kind == baseline_kind else ("ok" if p95 * 1000 < aim_ms else f"over {aim_ms} ms")
        print(f"{kind:34} {p50 * 1000:8.2f} {p95 * 1000:8.2f} {p50 / base50:13.2f} {p95 / base95:13.2f}  {aim}")


def report(samples: dict[str, list[float]], whole: list[float], args) -> None:
    report_table(samples, args)
    print(f"\nGET /api/certificates (all {args.certificates}, unpaged): median {statistics.median(whole):.2f} s")


if __name__ == "__main__":
    sys.exit(main())
