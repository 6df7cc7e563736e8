"""OCSP at scale: certmate's responder against `openssl ocsp` as a responder, over the same CA and the
same 100,000 revoked serials, and the 100,000-entry CRL built by certmate against `openssl ca -gencrl`.

    .venv/bin/python bench/ocsp.py [--revoked 100000] [--good 20000] [--requests 1500] [--clients 4]
                                   [--workers 1] [--keep]

One tenant, one CA (EC P-256), one certificate with --good + --revoked versions of random 128-bit
serials (bulk-inserted; the revoked ones with reasons). The same files for openssl: the CA, its
delegated responder's certificate and key (the very one certmate signs with), an index.txt of every
serial. Servers, --workers processes each: certmate's WSGI application under wsgiref (DEBUG off,
persistent database connections; more workers fork after setup and share the listening socket) and
`openssl ocsp -index -port` (-multi for more; key-hash responder id, the CA certificate in answers,
like certmate). The same requests to both, built beforehand: 45% good, 45% revoked, 10%
unknown serials, SHA-1 CertIDs, a fresh 16-byte nonce each, POSTed on a new connection each. Every
answer is checked (status, nonce). Latency: one client, servers alternating in rounds; throughput:
--clients client threads at once. Prints p50/p95 and requests/s of each and certmate/openssl (aims:
p95 < 10 ms, throughput >= 0.5x), then the CRL times.

Runs in a throw-away database `<name>_bench` (see bench/tenant_create.py), dropped unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_list import free_port, percentile  # noqa: E402

HOST = "ocspbench.localhost"
REASONS = ("keycompromise", "superseded", "affiliationchanged", "cessationofoperation", "unspecified")
OPENSSL_REASONS = {
    "keycompromise": "keyCompromise", "superseded": "superseded", "unspecified": "unspecified",
    "affiliationchanged": "affiliationChanged", "cessationofoperation": "cessationOfOperation",
}  # fmt: skip
P95_AIM_MS, THROUGHPUT_AIM = 10.0, 0.5


def bench_tenant(good: int, revoked: int):
    """The tenant, its CA and (serial, reason or None, revoked_at) of every version."""
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
    from apps.certificates.models import CertificateProfile, CertificateVersion
    from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
    from apps.certificates.pki.services import ca_hierarchy_create
    from certmate.actors import Actor

    actor = Actor.command(name="bench")
    with contextlib.redirect_stdout(io.StringIO()):
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        tenant_ensure_public(domains=["localhost"])
        tenant = tenant_create(slug="ocspbench", domain=HOST, actor=actor)
    pick = random.Random(5)  # noqa: S311 - bench data, not secrets
    now = datetime.now(UTC)
    entries = []
    for number in range(good + revoked):
        serial = pick.getrandbits(127) | (1 << 126)
        if number < revoked:
            entries.append(
                (serial, REASONS[number % len(REASONS)], now - timedelta(seconds=pick.randrange(86400 * 90)))
            )
        else:
            entries.append((serial, None, None))
    with tenant_context(tenant):
        _, ca = ca_hierarchy_create(name="bench", common_name="Bench CA", key_type="ec256", actor=actor)
        profile = CertificateProfile.objects.get(authority=ca, name="client")
        request = PrivateRequest(profile=profile, name="holder", subject={"common_name": "holder"})
        model = private_certificate_issue(request, actor=actor).current_version
        for start in range(0, len(entries), 5000):
            CertificateVersion.objects.bulk_create(
                CertificateVersion(
                    certificate_id=model.certificate_id, number=start + offset + 2, serial=format(serial, "x"),
                    not_before=model.not_before, not_after=model.not_after, subject=model.subject,
                    issuer=model.issuer, key_algorithm="EC", key_size=256, fingerprint_sha256=f"{start + offset:064x}",
                    certificate_pem="", chain_pem="", fullchain_pem="", authority=ca,
                    revoked_at=revoked_at, revocation_reason=reason or "",
                )
                for offset, (serial, reason, revoked_at) in enumerate(entries[start : start + 5000])
            )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would soon after a bulk load
    return tenant, ca, entries


def openssl_files(folder: Path, tenant, ca, entries) -> dict[str, Path]:
    """The CA, its key, the responder certmate signs with, and openssl's CA database of every serial."""
    from django_tenants.utils import tenant_context

    from apps.certificates.pki.keys import key_load, key_pem
    from apps.certificates.pki.ocsp_responders import ocsp_responder_ensure
    from certmate.actors import Actor

    with tenant_context(tenant):
        responder = ocsp_responder_ensure(authority=ca, actor=Actor.command(name="bench"))
        files = {
            "ca": ca.certificate_pem, "ca_key": key_pem(key_load(ca.private_key)),
            "responder": responder.certificate_pem, "responder_key": responder.private_key,
        }  # fmt: skip
    paths = {name: folder / f"{name}.pem" for name in files}
    for name, text in files.items():
        paths[name].write_text(text)
    expiry = "391231235959Z"
    lines = []
    for serial, reason, revoked_at in entries:
        hexa = format(serial, "X").rjust(32, "0")
        revocation = f"{revoked_at:%y%m%d%H%M%S}Z,{OPENSSL_REASONS[reason]}" if reason else ""
        lines.append(f"{'R' if reason else 'V'}\t{expiry}\t{revocation}\t{hexa}\tunknown\t/CN=holder-{hexa}\n")
    paths["index"] = folder / "index.txt"
    paths["index"].write_text("".join(lines))
    (folder / "index.txt.attr").write_text("unique_subject = no\n")
    return paths


def requests_mix(ca, entries, count: int) -> list[tuple[bytes, str, bytes]]:
    """(DER request, expected status, nonce): 45% good, 45% revoked, 10% never issued."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    issuer = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - what CertIDs use
    digest.update(issuer.subject.public_bytes())
    name_hash = digest.finalize()
    key_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
    pick = random.Random(11)  # noqa: S311
    good = [serial for serial, reason, _ in entries if not reason]
    revoked = [serial for serial, reason, _ in entries if reason]
    built = []
    for _ in range(count):
        roll = pick.random()
        serial, expected = (
            (pick.choice(good), "GOOD") if roll < 0.45 else
            (pick.choice(revoked), "REVOKED") if roll < 0.9 else (pick.getrandbits(127), "UNKNOWN")
        )  # fmt: skip
        nonce = os.urandom(16)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(name_hash, key_hash, serial, hashes.SHA1())  # noqa: S303
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        built.append((request.public_bytes(serialization.Encoding.DER), expected, nonce))
    return built


def serve(port: int, workers: int) -> None:
    """The certmate server process: its WSGI application on 127.0.0.1:port, ``workers`` processes."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    import django
    from django.core.wsgi import get_wsgi_application

    from tests.e2e.servers import _die_with_parent

    django.setup()

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet)
    server.request_queue_size = 64
    for _ in range(workers - 1):
        if os.fork() == 0:  # no database connection is open yet: each process opens its own
            _die_with_parent()()
            break
    server.serve_forever()


def ask(port: int, der: bytes) -> tuple[float, bytes]:
    import http.client

    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/pki/ocsp", der, {"Host": HOST, "Content-Type": "application/ocsp-request"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
    return elapsed, body


def check(body: bytes, expected: str, nonce: bytes) -> None:
    from cryptography import x509
    from cryptography.x509 import ocsp

    answer = ocsp.load_der_ocsp_response(body)
    if answer.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL or answer.certificate_status.name != expected:
        raise RuntimeError(f"expected {expected}, got {answer.response_status} {answer.certificate_status}")
    if answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce != nonce:
        raise RuntimeError("the nonce was not echoed")


def latencies(port: int, requests) -> list[float]:
    samples = []
    for der, expected, nonce in requests:
        elapsed, body = ask(port, der)
        check(body, expected, nonce)
        samples.append(elapsed)
    return samples


def throughput(port: int, requests, clients: int) -> float:
    """Requests per second with ``clients`` threads sending at once."""
    from tests.concurrency import run_together

    shares = iter([requests[number::clients] for number in range(clients)])
    taking = threading.Lock()

    def send_share():
        with taking:
            share = next(shares)
        for der, _, _ in share:
            ask(port, der)

    started = time.perf_counter()
    run_together(send_share, clients)
    return len(requests) / (time.perf_counter() - started)


def start(argv: list[str], log: Path, env=None) -> subprocess.Popen:
    from tests.e2e.servers import _die_with_parent

    with open(log, "w") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out, preexec_fn=_die_with_parent())


def stop(process: subprocess.Popen) -> None:
    """A server and its workers. `openssl ocsp -multi` leads a process group of its own and restarts its
    wait after SIGTERM (it never exits): its whole group is signalled, then killed."""
    with contextlib.suppress(ProcessLookupError):
        own_group = os.getpgid(process.pid) == process.pid
    for sent in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sent) if own_group else process.send_signal(sent)
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_up(port: int, process: subprocess.Popen, log: Path, der: bytes) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            ask(port, der)
            return
        except (OSError, RuntimeError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.args[0]} did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def crl_times(tenant, ca, files: dict[str, Path], folder: Path) -> tuple[float, float, int]:
    """Seconds for certmate's crl_publish and for `openssl ca -gencrl`, and the entries in certmate's CRL."""
    from django_tenants.utils import tenant_context

    from apps.certificates.pki.crl import crl_publish

    with tenant_context(tenant):
        started = time.perf_counter()
        published = crl_publish(authority=ca)
        certmate = time.perf_counter() - started
    (folder / "crlnumber").write_text("01\n")
    config = folder / "ca.cnf"
    config.write_text(
        f"[ca]\ndefault_ca = bench\n[bench]\ndatabase = {files['index']}\ncrlnumber = {folder / 'crlnumber'}\n"
        f"certificate = {files['ca']}\nprivate_key = {files['ca_key']}\ndefault_md = sha256\n"
        "default_crl_hours = 168\ncrl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n"
    )
    started = time.perf_counter()
    subprocess.run(
        ["openssl", "ca", "-gencrl", "-config", str(config), "-out", str(folder / "crl.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return certmate, time.perf_counter() - started, published.entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revoked", type=int, default=100_000)
    parser.add_argument("--good", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1500, help="requests per server, per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds, the servers alternating")
    parser.add_argument("--clients", type=int, default=4, help="client threads for the throughput")
    parser.add_argument("--workers", type=int, default=1, help="server processes, for each responder")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the certmate server process itself
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return 0

    from bench.issuance import django_on_bench_database

    with contextlib.ExitStack() as cleanup:
        temp = Path(tempfile.mkdtemp(prefix="certmate-bench-ocsp-"))
        cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
        os.environ["DJANGO_DEBUG"] = "false"
        (temp / "broker").mkdir()
        django_on_bench_database(cleanup, temp / "broker", keep=args.keep)
        print(f"inserting {args.revoked} revoked and {args.good} good serials...", file=sys.stderr)
        started = time.perf_counter()
        tenant, ca, entries = bench_tenant(args.good, args.revoked)
        files = openssl_files(temp, tenant, ca, entries)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        requests = requests_mix(ca, entries, args.requests)

        ports = {"certmate": free_port(), "openssl": free_port()}
        env = {**os.environ, "DATABASE_CONN_MAX_AGE": "60"}
        servers = {
            "certmate": start(
                [sys.executable, __file__, "--serve", str(ports["certmate"]), "--workers", str(args.workers)],
                temp / "certmate.log", env,
            ),
            "openssl": start(
                ["openssl", "ocsp", "-index", str(files["index"]), "-port", str(ports["openssl"]),
                 "-rsigner", str(files["responder"]), "-rkey", str(files["responder_key"]), "-CA", str(files["ca"]),
                 "-rother", str(files["ca"]), "-resp_key_id", "-nmin", "60", "-ignore_err",
                 *(["-multi", str(args.workers)] if args.workers > 1 else [])],
                temp / "openssl.log",
            ),
        }  # fmt: skip
        for name, process in servers.items():
            cleanup.callback(stop, process)
            wait_until_up(ports[name], process, temp / f"{name}.log", requests[0][0])
        for name in servers:  # warm-up: imports, connections, caches
            latencies(ports[name], requests[:100])

        samples = {name: [] for name in servers}
        per_round = max(1, len(requests) // args.rounds)
        for number in range(args.rounds):
            chunk = requests[number * per_round : (number + 1) * per_round]
            for name in servers if number % 2 == 0 else reversed(list(servers)):
                samples[name] += latencies(ports[name], chunk)
        rates = {name: [] for name in servers}
        for _ in range(2):
            for name in servers:
                rates[name].append(throughput(ports[name], requests, args.clients))
        in_process = respond_in_process(tenant, requests)
        crl = crl_times(tenant, ca, files, temp)

    report(samples, {name: max(values) for name, values in rates.items()}, in_process, crl, args)
    return 0


def respond_in_process(tenant, requests) -> float:
    """Milliseconds per request of certmate's OCSP work alone (ocsp_respond: parse, one query, sign),
    in this process without HTTP: what the responder costs beyond the web server and Django."""
    from django_tenants.utils import tenant_context

    from apps.certificates.pki.ocsp import ocsp_respond

    with tenant_context(tenant):
        for der, _, _ in requests[:100]:
            ocsp_respond(der)
        started = time.perf_counter()
        for der, _, _ in requests:
            ocsp_respond(der)
        return (time.perf_counter() - started) / len(requests) * 1000


def report(samples, rates, in_process, crl, args) -> None:
    print(f"\nOCSP, one CA with {args.revoked} revoked and {args.good} good serials; POST, new connection, nonce;")
    multi = f" -multi {args.workers}" if args.workers > 1 else ""
    print(f"{args.workers} server process(es) each (certmate: wsgiref; openssl ocsp{multi})")
    print(f"45% good, 45% revoked, 10% unknown; {sum(map(len, samples.values())) // 2} requests per server (latency, "
          f"one client), {args.requests} x 2 with {args.clients} clients (throughput, best of 2)\n")  # fmt: skip
    print(f"{'responder':12} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
    for name, values in samples.items():
        print(
            f"{name:12} {percentile(values, 0.5) * 1000:8.2f} {percentile(values, 0.95) * 1000:8.2f} {rates[name]:8.0f}"
        )
    p95 = percentile(samples["certmate"], 0.95) * 1000
    ratio = rates["certmate"] / rates["openssl"]
    print(f"\ncertmate p95 {p95:.2f} ms (aim < {P95_AIM_MS:.0f} ms): {'met' if p95 < P95_AIM_MS else 'NOT met'}")
    print(f"throughput certmate/openssl {ratio:.2f}x (aim >= {THROUGHPUT_AIM}x): "
          f"{'met' if ratio >= THROUGHPUT_AIM else 'NOT met'}")  # fmt: skip
    print(f"certmate's OCSP work alone (ocsp_respond in process, no HTTP): {in_process:.2f} ms per request")
    certmate, openssl, entries = crl
    print(f"\nCRL of {entries} entries: certmate crl_publish {certmate:.2f} s, openssl ca -gencrl {openssl:.2f} s "
          f"({certmate / openssl:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
