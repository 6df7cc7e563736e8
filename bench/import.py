"""Importing a CertMate folder of 1,000 certificates (certbot lineages of 3 versions each) into a tenant,
then importing it again (a no-op). Aim: the first import under 60 s.

    .venv/bin/python bench/import.py [--certificates 1000] [--versions 3] [--keep]

The folder is laid out as CertMate 2.x writes it (settings.json with its domains and an RFC 2136
account, certificates/<domain>/ with archive/, flat copies and metadata.json), with ECDSA keys signed
by a throw-away CA. Baseline, measured in the same run: reading and parsing that folder alone (every
PEM parsed, every key loaded and checked against its certificate), what any importer must do at least.
Runs in a throw-away database (see bench/tenant_create.py) and prints the figures and ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "importbench.localhost"


def _pem(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode()


def certmate_folder(root: Path, certificates: int, versions: int) -> int:
    """Write a CertMate install with ``certificates`` lineages of ``versions``; the number of files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench ACME CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    chain = _pem(ca)
    domains = []
    for number in range(certificates):
        domain = f"host{number:05d}.bench.test"
        domains.append({"domain": domain, "dns_provider": "rfc2136", "dns_account_id": "bench"})
        folder = root / "certificates" / domain
        archive = folder / "archive" / domain
        archive.mkdir(parents=True)
        for version in range(1, versions + 1):
            key = ec.generate_private_key(ec.SECP256R1())
            start = now - timedelta(days=60 * (versions - version) + 1)
            cert = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + timedelta(days=90))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
                .sign(ca_key, hashes.SHA256())
            )  # fmt: skip
            key_pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            files = {"cert": _pem(cert), "chain": chain, "fullchain": _pem(cert) + chain, "privkey": key_pem}
            for kind, text in files.items():
                (archive / f"{kind}{version}.pem").write_text(text)
        for kind, text in files.items():
            (folder / f"{kind}.pem").write_text(text)
        metadata = {"domain": domain, "dns_provider": "rfc2136", "account_id": "bench", "san_domains": []}
        (folder / "metadata.json").write_text(json.dumps(metadata))
    settings = {
        "email": "ops@bench.test",
        "domains": domains,
        "dns_provider": "rfc2136",
        "default_accounts": {"rfc2136": "bench"},
        "dns_providers": {"rfc2136": {"accounts": {"bench": {
            "name": "bench", "nameserver": "127.0.0.1", "tsig_key": "bench-key",
            "tsig_secret": "x+dUy7AbV+BcE4SW0XFZwsPHqysOMD7aT7XQV2dquAY=", "tsig_algorithm": "HMAC-SHA256"}}}},
    }  # fmt: skip
    (root / "data").mkdir()
    (root / "data" / "settings.json").write_text(json.dumps(settings))
    return sum(1 for p in root.rglob("*") if p.is_file())


def read_baseline(root: Path) -> int:
    """Read and parse every certificate and key of the folder (no database): the floor of any import."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    parsed = 0
    for archive in sorted(root.glob("certificates/*/archive/*")):
        for cert_path in sorted(archive.glob("cert*.pem")):
            number = cert_path.name[4:-4]
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key((archive / f"privkey{number}.pem").read_bytes(), None)
            assert key.public_key() == cert.public_key()
            (archive / f"chain{number}.pem").read_bytes()
            (archive / f"fullchain{number}.pem").read_bytes()
            parsed += 1
    return parsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    from bench.issuance import tenant_on_bench_database

    with contextlib.ExitStack() as cleanup:
        temp, tenant = tenant_on_bench_database(
            cleanup, prefix="certmate-bench-import-", slug="importbench", host=HOST, keep=args.keep
        )
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.certificates.models import CertificateVersion
        from apps.importing.services.certmate import certmate_import
        from certmate.actors import Actor

        source = temp / "certmate"
        started = time.perf_counter()
        files = certmate_folder(source, args.certificates, args.versions)
        made = time.perf_counter() - started
        print(f"CertMate folder: {args.certificates} certificates x {args.versions} versions, {files} files "
              f"(written in {made:.1f} s)", file=sys.stderr)  # fmt: skip

        started = time.perf_counter()
        parsed = read_baseline(source)
        baseline = time.perf_counter() - started

        actor = Actor.command(name="bench")
        statements = [0]

        def counted(execute, sql, params, many, context):
            # Every statement sent, SET search_path included: the figure that does not depend on the load.
            statements[-1] += 1
            return execute(sql, params, many, context)

        with tenant_context(tenant):
            started, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(counted):
                first = certmate_import(path=source, actor=actor)
            first_seconds, first_cpu = time.perf_counter() - started, time.process_time() - cpu
            first_statements, statements[-1] = statements[-1], 0
            stored = CertificateVersion.objects.count()
            started = time.perf_counter()
            with connection.execute_wrapper(counted):
                second = certmate_import(path=source, actor=actor)
            second_seconds = time.perf_counter() - started
            second_statements = statements[-1]
            stored_after = CertificateVersion.objects.count()

    print(f"source:                {args.certificates} certificates, {parsed} versions, {files} files")
    print(f"baseline (read+parse): {baseline:.2f} s")
    per = args.certificates
    print(
        f"first import:          {first_seconds:.2f} s, CPU {first_cpu:.2f} s, {first_statements} SQL statements "
        f"({first_statements / per:.1f} per certificate); {stored} versions stored; {first.counts()}"
    )
    print(
        f"second import:         {second_seconds:.2f} s, {second_statements} SQL statements "
        f"(changed: {second.changed}; versions {stored_after})"
    )
    print(f"load average:          {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"ratio first / baseline:  {first_seconds / baseline:.1f}x")
    print(f"ratio second / baseline: {second_seconds / baseline:.1f}x")
    print(f"aim (first under 60 s): {'met' if first_seconds < 60 else 'missed'}; "
          f"second a no-op: {'yes' if not second.changed and stored_after == stored else 'NO'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
