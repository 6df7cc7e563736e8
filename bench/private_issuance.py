"""Issuing from a private CA: 1,000 ECDSA P-256 client certificates through certmate against a raw
`cryptography` loop in the same run, and a batch of 1,000 rows through the API end to end.

    .venv/bin/python bench/private_issuance.py [--count 1000] [--keep]

(a) raw: generate a P-256 key, build a client leaf with the same extensions certmate's have (basic
constraints, key usage, SKI/AKI, EKU clientAuth, an e-mail SAN), sign with the CA key, PEM out the
certificate and the key. certmate, two ways, each certificate stored (key encrypted), its version
parsed, its job, event and two audit events written: one `private_certificate_issue` per certificate
(its own transaction, the CA key loaded once, as a batch does), and the batch job (`batch_run`, rows
issued a chunk per transaction). Prints the rates and their ratio to raw (aim >= 0.5x).
(b) POST /api/certificates/batch with 1,000 rows, a real Celery worker (prefork, --concurrency 2) running
the job (its other process publishing the certificates to storage meanwhile), GET .../batches/{id} polled
until done and its results read; aim < 10 s end to end.

Runs in a throw-away database `<name>_bench` (see bench/tenant_create.py), dropped afterwards unless
--keep; the broker is kombu's filesystem transport in a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATIO_AIM = 0.5
API_AIM_SECONDS = 10.0
POLL_SECONDS = 0.25


def raw_loop(count: int, ca_key, ca_certificate) -> float:
    """Seconds for ``count`` keys made, leaves built and signed, PEM written, by `cryptography` alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign",
         "crl_sign", "encipher_only", "decipher_only"), False,
    )  # fmt: skip
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key())
    started = time.perf_counter()
    now = datetime.now(UTC)
    for number in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key()
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"raw-{number}")]))
            .issuer_name(ca_certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, **usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(aki, critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(f"raw-{number}@bench.test")]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        leaf.public_bytes(serialization.Encoding.PEM)
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return time.perf_counter() - started


def rows(count: int, prefix: str) -> list[dict]:
    return [{"common_name": f"{prefix}-{n}", "san": f"email:{prefix}-{n}@bench.test", "name": f"{prefix}-{n}"}
            for n in range(count)]  # fmt: skip


def service_loop(count: int, authority, actor, prefix: str = "svc") -> float:
    """Seconds for ``count`` private_certificate_issue calls (each its own transaction)."""
    from apps.certificates.pki.batch_issuer import RowIssuer
    from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue

    issuer = RowIssuer(authority=authority, profile=None, actor=actor)
    profile, signer = issuer.profile("client"), issuer.signer()
    started = time.perf_counter()
    for row in rows(count, prefix):
        request = PrivateRequest(profile=profile, subject={"common_name": row["common_name"]},
                                 alt_names=[row["san"]], name=row["name"])  # fmt: skip
        private_certificate_issue(request, actor=actor, signer=signer)
    return time.perf_counter() - started


def batch_job(count: int, authority, actor, key: str = "bench-job") -> tuple[float, object]:
    """Seconds for the batch job (batch_run, in this process) to issue ``count`` rows."""
    from apps.certificates.pki.batching import batch_run, batch_submit

    batch, _ = batch_submit(authority=authority, rows=rows(count, key), idempotency_key=key, actor=actor)
    started = time.perf_counter()
    batch = batch_run(batch_id=batch.pk)
    return time.perf_counter() - started, batch


def api_batch(tenant, count: int, worker) -> tuple[float, float, dict]:
    """POST the rows, poll until done, read the results: (seconds end to end, seconds to the 202, batch)."""
    from django_tenants.utils import tenant_context
    from rest_framework.test import APIClient

    from apps.accounts.services.tokens import token_create
    from apps.accounts.services.users import user_create
    from certmate.actors import Actor

    with tenant_context(tenant):
        password = secrets.token_urlsafe(16)  # never used: the bench calls the API with a token
        user = user_create(email="op@bench.test", password=password, role="operator", actor=Actor.command())
        _, raw = token_create(user=user, role="operator", name="bench", actor=Actor.command())
    client = APIClient(HTTP_HOST="bench.localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"authority": "bench", "idempotency_key": "bench-api", "rows": rows(count, "api")}
    started = time.perf_counter()
    answer = client.post("/api/certificates/batch", body, format="json")
    accepted = time.perf_counter() - started
    if answer.status_code != 202:
        raise RuntimeError(f"POST answered {answer.status_code}: {answer.content[:500]!r}")
    while True:
        batch = client.get(answer["Location"]).json()
        if batch["finished_at"]:
            break
        if not worker.alive():
            raise RuntimeError(f"the Celery worker died:\n{worker.log_tail()}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started, accepted, batch


def events_left(tenant) -> int:
    from django_tenants.utils import tenant_context

    from apps.certificates.models import CertificateEvent

    with tenant_context(tenant):
        return CertificateEvent.objects.filter(processed_at__isnull=True).count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="certificates per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's processes for (b)")
    args = parser.parse_args()

    from bench.issuance import CeleryWorker, django_on_bench_database

    with contextlib.ExitStack() as cleanup:
        temp = Path(tempfile.mkdtemp(prefix="certmate-bench-private-"))
        cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
        os.environ["CERTMATE_STORAGE_ROOT"] = str(temp / "certificates")
        (temp / "broker").mkdir()
        url, broker = django_on_bench_database(cleanup, temp / "broker", keep=args.keep)
        from cryptography import x509
        from django.core.management import call_command
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.certificates.pki.keys import key_load
        from apps.certificates.pki.services import ca_hierarchy_create
        from certmate.actors import Actor
        from certmate.celery import app as celery_app

        print(f"database {url.split('/')[3].split('?')[0]}, broker: {broker}", file=sys.stderr)
        with contextlib.redirect_stdout(io.StringIO()):
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            tenant_ensure_public(domains=["localhost"])
            tenant = tenant_create(slug="bench", domain="bench.localhost", actor=Actor.command())
        actor = Actor.command(name="bench")
        with tenant_context(tenant):
            _, authority = ca_hierarchy_create(name="bench", common_name="Bench CA", key_type="ec256", actor=actor)
            ca_key = key_load(authority.private_key)
            ca_certificate = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
            raw_loop(50, ca_key, ca_certificate)  # warm-up, not measured
            raw = raw_loop(args.count, ca_key, ca_certificate)
            service = service_loop(args.count, authority, actor)
            job, batch = batch_job(args.count, authority, actor)
            assert batch.succeeded == args.count, batch.results[:3]
        celery_app.control.purge()  # the events of (a): storage would publish them while (b) runs

        worker = CeleryWorker(temp / "worker.log", env=dict(os.environ), concurrency=args.concurrency)
        cleanup.callback(worker.stop)
        worker.start()
        started = time.perf_counter()
        end_to_end, accepted, result = api_batch(tenant, args.count, worker)
        # (a)'s events were purged from the broker and stay unprocessed; (b)'s are delivered by the worker.
        while events_left(tenant) > args.count * 2 and time.perf_counter() - started < 300:
            time.sleep(0.5)
        published = time.perf_counter() - started
        report(args.count, raw=raw, service=service, job=job, api=(end_to_end, accepted, result, published),
               concurrency=args.concurrency)  # fmt: skip
    return 0 if result["succeeded"] == args.count else 1


def report(count: int, *, raw: float, service: float, job: float, api: tuple, concurrency: int) -> None:
    end_to_end, accepted, batch, published = api
    print(f"(a) {count} ECDSA P-256 client certificates, server-side keys")
    print(f"    raw cryptography (key, build, sign, PEM): {count / raw:8.0f} /s  ({raw:.2f} s)")
    for name, seconds in (("private_certificate_issue, one by one", service), ("the batch job (batch_run)", job)):
        ratio = raw / seconds
        verdict = "met" if ratio >= RATIO_AIM else "missed"
        print(f"    {name + ':':42} {count / seconds:8.0f} /s  ({seconds:.2f} s, {seconds / count * 1000:.1f} ms each)"
              f"  ratio {ratio:.3f}x raw (aim >= {RATIO_AIM}x: {verdict})")  # fmt: skip
    verdict = "met" if end_to_end < API_AIM_SECONDS else "missed"
    print(f"(b) POST /api/certificates/batch, {count} rows, worker concurrency {concurrency}:")
    print(f"    202 after {accepted:.2f} s; all {batch['succeeded']} issued and results read after {end_to_end:.2f} s"
          f" (aim < {API_AIM_SECONDS:.0f} s: {verdict}); status {batch['status']}")  # fmt: skip
    print(f"    every certificate published to storage (its issued event delivered) after {published:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
