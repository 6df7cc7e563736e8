"""How long a Prometheus scrape of /metrics takes: 100,000 certificates over 100 tenants.

    .venv/bin/python bench/metrics.py [--tenants 100] [--per-tenant 1000] [--rounds 5]

Rows are synthetic (one version and one finished job per certificate), written straight into each
tenant's schema in a throw-away database `<name>_bench` (DATABASE_URL's server, or the embedded
PostgreSQL), dropped afterwards. Prints the median of GET /metrics through Django's full stack (token
checked, every family read, the page written). The certificate families (four lines per certificate, all
but a few kB of the page) are written by PostgreSQL; baselines measured in the same run: the previous
design, the same lines from rows read into Python and formatted there (its whole scrape, too), and
prometheus_client rendering the same samples from those rows (its metric-family objects and
generate_latest). Also the reads as one query per tenant and family instead of one UNION ALL over the
tenants per family, and what gzip (for clients that accept it) costs and saves. Aim: under 1 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sweep_plan import fill, scale_parser  # noqa: E402
from bench.tenant_create import bench_database, drop_database  # noqa: E402

TOKEN = "b" * 40
# The previous design's read: one row per certificate, the lines formatted in Python (previous_lines).
ROWS_SQL = """
SELECT %s, c.identifier, c.kind, COALESCE(a.name, ca.name, ''),
       EXTRACT(EPOCH FROM v.not_after)::float8, EXTRACT(EPOCH FROM c.renew_at)::float8,
       (v.id IS NOT NULL AND v.revoked_at IS NULL AND v.not_after > now())
FROM {certificate} c LEFT JOIN {version} v ON v.id = c.current_version_id
LEFT JOIN {authority} a ON a.id = c.authority_id LEFT JOIN {ca_account} ca ON ca.id = c.ca_account_id"""


def jobs_fill() -> None:
    """One finished job per certificate (a tenth failed), durations from 1 s to 10 min."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO certificates_job
                 (certificate_id, operation, status, created_at, started_at, finished_at, attempts, forced,
                  revocation_reason, progress, output, error)
               SELECT c.id, 'issue', CASE WHEN c.id % 10 = 0 THEN 'failed' ELSE 'succeeded' END, now(),
                      now() - make_interval(secs => 600), now() - make_interval(secs => 600 - (c.id % 600) - 1),
                      1, false, '', '', '', ''
               FROM certificates_certificate c"""
        )


def medians(rounds: int, **contestants) -> dict[str, tuple[float, object]]:
    """{name: (median seconds, last result)}, the contestants taking turns within each round, so a load
    that changes during the run (this machine is shared) weighs on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in contestants}
    results: dict[str, object] = {}
    for _ in range(rounds):
        for name, run in contestants.items():
            started = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(times[name]), results[name]) for name in contestants}


def previous_lines(rows: list[tuple]) -> bytes:
    """The previous design's certificate section: each certificate's labels formatted once, four lines."""
    from apps.metrics.exposition import escape
    from apps.metrics.families import EXPIRY, READY, RENEWAL

    expiry, renewal, ready = [], [], []
    expiry_line, renewal_line = EXPIRY + "{%s} %r", RENEWAL + "{%s} %r"
    ready_lines = "\n".join(f'{READY}{{%s,condition="{condition}"}} %d' for condition in ("True", "False"))
    for tenant, name, kind, issuer, not_after, renew_at, valid in rows:
        labels = f'tenant="{tenant}",name="{escape(name)}",kind="{kind}",issuer="{escape(issuer)}"'
        if not_after is not None:
            expiry.append(expiry_line % (labels, not_after))
        if renew_at is not None:
            renewal.append(renewal_line % (labels, renew_at))
        ready.append(ready_lines % (labels, valid, labels, not valid))
    return "\n".join([*expiry, *renewal, *ready]).encode()


def gzipped(page: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(page) + compressor.flush()


def prometheus_client_render(rows: dict) -> bytes:
    """The same samples as certmate's page, built as prometheus_client metric families and rendered by it."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    from apps.metrics.families import job_counts
    from apps.metrics.reads import DURATION_BUCKETS

    def collect():
        labels = ["tenant", "name", "kind", "issuer"]
        expiry = GaugeMetricFamily("certmate_certificate_expiration_timestamp_seconds", "expiry", labels=labels)
        renewal = GaugeMetricFamily("certmate_certificate_renewal_timestamp_seconds", "renewal", labels=labels)
        ready = GaugeMetricFamily("certmate_certificate_ready_status", "ready", labels=[*labels, "condition"])
        for tenant, name, kind, issuer, not_after, renew_at, valid in rows["certificates"]:
            values = [tenant, name, kind, issuer]
            if not_after is not None:
                expiry.add_metric(values, not_after)
            if renew_at is not None:
                renewal.add_metric(values, renew_at)
            for condition in ("True", "False"):
                ready.add_metric([*values, condition], float((condition == "True") == bool(valid)))
        job_labels = ["tenant", "operation", "status"]
        jobs = CounterMetricFamily("certmate_jobs", "jobs", labels=job_labels)
        histogram = HistogramMetricFamily("certmate_job_duration_seconds", "d", labels=job_labels)
        for (tenant, operation, status), counts in job_counts(rows["jobs"]).items():
            jobs.add_metric([tenant, operation, status], counts.count)
            pairs = [(repr(b), n) for b, n in zip(DURATION_BUCKETS, counts.buckets, strict=True)]
            histogram.add_metric([tenant, operation, status], [*pairs, ("+Inf", counts.timed)], counts.seconds)
        return [expiry, renewal, ready, jobs, histogram]

    class Rows:
        def collect(self):
            return collect()

    registry = CollectorRegistry()
    registry.register(Rows())
    return generate_latest(registry)


def main() -> int:
    parser = scale_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    # Before bench_database: without DATABASE_URL it reads the settings (for the embedded server's folder).
    os.environ.update(CERTMATE_METRICS_TOKEN=TOKEN, DJANGO_ALLOWED_HOSTS="localhost", LOG_LEVEL="WARNING")
    url, admin = bench_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="certmate.settings.dev")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone
        from django_tenants.utils import tenant_context
        from prometheus_client.parser import text_string_to_metric_families

        from apps.accounts.services.tenants import tenant_create, tenant_ensure_public
        from apps.metrics import reads as sql
        from apps.metrics.exposition import render
        from apps.metrics.families import (
            DELIVERIES,
            EXPIRY,
            PUBLICATIONS,
            READY,
            RENEWAL,
            counted,
            job_families,
            process_families,
            sweep_families,
        )
        from apps.metrics.reads import certificates_sql, read_all, scraped_schemas, union_rows
        from certmate.actors import Actor

        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        tenant_ensure_public(domains=["localhost"])
        now = timezone.now() - timedelta(days=1)
        started = time.perf_counter()
        for number in range(args.tenants):
            tenant = tenant_create(slug=f"m{number:03d}", domain=f"m{number:03d}.bench.test", actor=Actor.command())
            with tenant_context(tenant):
                fill(tenant, args.per_tenant, 0.02, now)
                jobs_fill()
        print(
            f"filled {args.tenants} tenants x {args.per_tenant} certificates in {time.perf_counter() - started:.1f} s"
        )

        client = Client()
        headers = {"host": "localhost", "authorization": f"Bearer {TOKEN}"}
        client.get("/metrics", headers=headers)  # warm the caches alike for all
        schemas = scraped_schemas()

        names = (EXPIRY, RENEWAL, READY)

        def per_tenant():
            for schema in schemas:
                read_all([schema], names)

        def previous_scrape():  # the same page the previous way (rows, lines in Python), without Django's stack
            lines = previous_lines(union_rows(schemas, ROWS_SQL))
            rest = [
                *job_families(union_rows(schemas, sql.JOBS_SQL, [sql.NEGATED_BOUNDS])),
                counted(*PUBLICATIONS, union_rows(schemas, sql.PUBLICATIONS_SQL)),
                counted(*DELIVERIES, union_rows(schemas, sql.DELIVERIES_SQL)),
                *sweep_families(union_rows(schemas, sql.SWEEP_SQL)),
                *process_families(schemas),
            ]
            return lines + b"".join(render(rest))

        measured = medians(
            args.rounds,
            scrape=lambda: client.get("/metrics", headers=headers),
            scrape_gzip=lambda: client.get("/metrics", headers={**headers, "accept-encoding": "gzip"}),
            previous=previous_scrape,
            sql_lines=lambda: union_rows(schemas, certificates_sql(*names), text_as_bytes=True),
            rows=lambda: union_rows(schemas, ROWS_SQL),
            python_lines=lambda: previous_lines(union_rows(schemas, ROWS_SQL)),
            reads=lambda: read_all(schemas, names),
            separate=per_tenant,
        )
        (scrape, page), previous = measured["scrape"], measured["previous"][0]
        scrape_gzip, packed = measured["scrape_gzip"]
        assert packed["Content-Encoding"] == "gzip" and zlib.decompress(packed.content, 31) == page.content
        sql_lines, (row_reads, rows) = measured["sql_lines"][0], measured["rows"]
        python_lines = measured["python_lines"][0]
        reads, separate = measured["reads"][0], measured["separate"][0]
        assert page.status_code == 200, (page.status_code, page.content[:300])
        text = page.content.decode()
        samples = sum(len(family.samples) for family in text_string_to_metric_families(text))
        squeezed = medians(
            args.rounds, **{f"gzip {level}": lambda level=level: gzipped(page.content, level) for level in (1, 6)}
        )
        client_library = medians(1, rendered=lambda: prometheus_client_render({"certificates": rows, "jobs": []}))[
            "rendered"
        ][0]  # long: once
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, url)

    total = args.tenants * args.per_tenant
    print(f"certificates: {total:,} over {args.tenants} tenants; page {len(text) / 1e6:.1f} MB, {samples:,} samples")
    print(f"GET /metrics (median of {args.rounds}, in turns):       {scrape:.3f} s")
    print(f"  baseline: the previous design's page (rows, Python lines): {previous:.3f} s  "
          f"{previous / scrape:.2f}x slower")  # fmt: skip
    print(f"  asking for gzip, as Prometheus does: {scrape_gzip:.3f} s, {len(packed.content) / 1e6:.2f} MB sent")
    print(f"  the reads it makes (certificate lines written by PostgreSQL): {reads:.3f} s")
    print(f"certificate lines: PostgreSQL {sql_lines:.3f} s vs rows read {row_reads:.3f} s + Python "
          f"{python_lines - row_reads:.3f} s = {python_lines:.3f} s ({python_lines / sql_lines:.2f}x)")  # fmt: skip
    print(f"  baseline: prometheus_client rendering those rows: {client_library:.3f} s (reads excluded)")
    print(f"the reads as queries per tenant: {separate:.3f} s vs one UNION ALL per family: {reads:.3f} s "
          f"({separate / reads:.1f}x)")  # fmt: skip
    for name, (seconds, packed) in squeezed.items():
        print(f"{name}: {seconds:.3f} s for {len(text) / 1e6:.1f} MB -> {len(packed) / 1e6:.2f} MB "
              f"({len(text) / len(packed):.0f}x smaller)")  # fmt: skip
    print(f"aim under 1 s: {'met' if max(scrape, scrape_gzip) < 1 else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
