"""A CA with 100,000 revoked certificates: certmate signing its CRL (`crl_publish`: rows read, entries
built, signed, stored) against `openssl ca -gencrl` over the same revoked serials, reasons and dates, in
one run; then serving it: GET /pki/<ca>/crl.der whole, the same GET answered 304 (If-None-Match), and
CertMate's /api/crl/download/info.

    .venv/bin/python bench/crl.py [--count 100000] [--samples 3] [--naive] [--keep]

--naive also times cryptography's builder fed one add_revoked_certificate call per entry (what
crl_build did before: it copies the entries on every call). Runs in a throw-away database
`<name>_bench` (see bench/tenant_create.py), dropped afterwards unless --keep. Prints medians, the
breakdown of certmate's time and the ratio to openssl.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "bench.localhost"
OPENSSL_REASONS = {
    "keycompromise": "keyCompromise",
    "superseded": "superseded",
    "cessationofoperation": "cessationOfOperation",
    "unspecified": "unspecified",
    "affiliationchanged": "affiliationChanged",
}
OPENSSL_CONFIG = """[ ca ]
default_ca = bench
[ bench ]
database = {folder}/index.txt
crlnumber = {folder}/crlnumber
certificate = {folder}/ca.pem
private_key = {folder}/ca.key
default_md = sha256
default_crl_hours = 168
unique_subject = no
crl_extensions = crl_extensions
[ crl_extensions ]
authorityKeyIdentifier = keyid:always
"""


def median_seconds(call, samples: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(samples):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def openssl_setup(folder: Path, authority) -> Path:
    """An `openssl ca` directory for ``authority``: its certificate and key, an index of every revoked
    version (status R, revocation time and reason, keyTime for an invalidity date), a CRL number."""
    from cryptography.hazmat.primitives import serialization

    from apps.certificates.models import CertificateVersion
    from apps.certificates.pki.keys import key_load

    key = key_load(authority.private_key)
    (folder / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "ca.pem").write_text(authority.certificate_pem)
    (folder / "crlnumber").write_text("1000\n")
    rows = CertificateVersion.objects.filter(authority=authority, revoked_at__isnull=False).values_list(
        "serial", "not_after", "revoked_at", "revocation_reason", "invalidity_date"
    )
    with (folder / "index.txt").open("w") as index:
        for serial, not_after, revoked_at, reason, invalidity in rows.iterator(chunk_size=5000):
            revoked = f"{revoked_at:%y%m%d%H%M%S}Z,{OPENSSL_REASONS.get(reason, 'unspecified')}"
            if invalidity is not None:
                revoked = f"{revoked_at:%y%m%d%H%M%S}Z,keyTime,{invalidity:%Y%m%d%H%M%S}Z"
            hex_serial = serial.upper().rjust(len(serial) + len(serial) % 2, "0")
            index.write(f"R\t{not_after:%y%m%d%H%M%S}Z\t{revoked}\t{hex_serial}\tunknown\t/CN=bench\n")
    config = folder / "openssl.cnf"
    config.write_text(OPENSSL_CONFIG.format(folder=folder))
    return config


def openssl_gencrl(config: Path, out: Path) -> None:
    subprocess.run(["openssl", "ca", "-gencrl", "-batch", "-config", str(config), "-out", str(out)],
                   check=True, capture_output=True)  # fmt: skip


def breakdown(authority) -> dict[str, float]:
    """Where crl_build's time goes: reading the rows, building the entries, signing."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509

    from apps.certificates.pki.crl import _entry, revoked_entries
    from apps.certificates.pki.keys import key_load, signing_hash

    started = time.perf_counter()
    rows = list(revoked_entries(authority))
    read = time.perf_counter()
    entries = [_entry(*row) for row in rows]
    built = time.perf_counter()
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    key = key_load(authority.private_key)
    now = datetime.now(UTC)
    (
        x509.CertificateRevocationListBuilder(revoked_certificates=entries)
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + timedelta(days=7))
        .sign(key, signing_hash(key))
    )
    signed = time.perf_counter()
    return {"read rows": read - started, "build entries": built - read, "sign": signed - built, "_entries": entries}


def naive_seconds(entries, authority) -> float:
    from cryptography import x509

    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    started = time.perf_counter()
    builder = x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="revoked certificates of the CA")
    parser.add_argument("--samples", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--naive", action="store_true", help="also time one add_revoked_certificate per entry")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    from bench.issuance import django_on_bench_database

    with contextlib.ExitStack() as cleanup:
        temp = Path(tempfile.mkdtemp(prefix="certmate-bench-crl-"))
        cleanup.callback(shutil.rmtree, temp, ignore_errors=True)
        (temp / "broker").mkdir()
        django_on_bench_database(cleanup, temp / "broker", keep=args.keep)
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        from django.core.management import call_command
        from django.test import Client
        from django_tenants.utils import tenant_context

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.certificates.models import CertificateProfile
        from apps.certificates.pki.authorities import ca_default_set
        from apps.certificates.pki.crl import crl_publish
        from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
        from apps.certificates.pki.services import ca_hierarchy_create
        from certmate.actors import Actor
        from tests.pki.revoked_bulk import revoked_versions_create

        with contextlib.redirect_stdout(io.StringIO()):
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            tenant_ensure_public(domains=["localhost"])
            tenant = tenant_create(slug="bench", domain=HOST, actor=Actor.command())
        actor = Actor.command(name="bench")
        with tenant_context(tenant):
            _, authority = ca_hierarchy_create(name="bench", common_name="Bench CA", key_type="ec256", actor=actor)
            ca_default_set(authority=authority, actor=actor)
            profile = CertificateProfile.objects.get(authority=authority, name="client")
            request = PrivateRequest(profile=profile, name="template", subject={"common_name": "template"})
            version = private_certificate_issue(request, actor=actor).current_version
            started = time.perf_counter()
            revoked_versions_create(version, args.count)
            inserted = time.perf_counter() - started
            print(f"{args.count} revoked versions inserted in {inserted:.1f} s", file=sys.stderr)

            certmate, published = median_seconds(lambda: crl_publish(authority=authority), args.samples)
            parts = breakdown(authority)
            naive = naive_seconds(parts.pop("_entries"), authority) if args.naive else None
            config = openssl_setup(temp, authority)
            openssl, _ = median_seconds(lambda: openssl_gencrl(config, temp / "openssl.crl"), args.samples)
            from_openssl = x509.load_pem_x509_crl((temp / "openssl.crl").read_bytes())
            openssl_size = len(from_openssl.public_bytes(Encoding.DER))

        client = Client(HTTP_HOST=HOST)
        whole, answer = median_seconds(lambda: client.get("/pki/bench/crl.der"), args.samples)
        etag = answer["ETag"]
        not_modified, _ = median_seconds(lambda: client.get("/pki/bench/crl.der", HTTP_IF_NONE_MATCH=etag), 20)
        info, info_answer = median_seconds(lambda: client.get("/api/crl/download/info"), args.samples)
        assert answer.status_code == 200 and info_answer.json()["revoked_count"] == args.count

    size = len(bytes(published.der))
    print(f"CRL entries:                       {published.entries} (openssl's: {len(from_openssl)})")
    print(f"CRL size (DER):                    {size / 1e6:.1f} MB (openssl's: {openssl_size / 1e6:.1f} MB)")
    spent = ", ".join(f"{part} {seconds:.2f} s" for part, seconds in parts.items())
    print(f"certmate crl_publish:              {certmate:.2f} s  ({spent})")
    print(f"openssl ca -gencrl:                {openssl:.2f} s")
    print(f"ratio certmate / openssl:          {certmate / openssl:.2f}x")
    if naive is not None:
        print(f"add_revoked_certificate per entry: {naive:.1f} s (the builder calls alone, before signing)")
    print(f"GET /pki/bench/crl.der (200):      {whole * 1000:.0f} ms")
    print(f"GET with If-None-Match (304):      {not_modified * 1000:.1f} ms")
    print(f"GET /api/crl/download/info:        {info * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
