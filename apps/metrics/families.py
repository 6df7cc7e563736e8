"""The metric families /metrics reports, from the rows apps.metrics.reads returns and the counters of
certmate.metrics. Names follow cert-manager's (certmanager_certificate_* → certmate_certificate_*), so
its dashboards and alerts carry over with the prefix changed; every series has a ``tenant`` label."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from apps.metrics.exposition import Family
from apps.metrics.reads import DURATION_BUCKETS, read_all
from certmate.metrics import process_registry

CERTIFICATE_LABELS = ("tenant", "name", "kind", "issuer")
# cert-manager also writes condition="Unknown", always 0 here: left out, a fifth of a scrape's lines.
JOB_OPEN = {"queued": "certmate_queue_depth", "running": "certmate_jobs_running"}


EXPIRY = "certmate_certificate_expiration_timestamp_seconds"
RENEWAL = "certmate_certificate_renewal_timestamp_seconds"
READY = "certmate_certificate_ready_status"


def certificate_families(rows: Sequence[tuple]) -> list[Family]:
    """From reads.certificates_sql's rows: per schema, each family's lines already written (NULL: none)."""
    families = [
        Family(EXPIRY, "gauge", "When the certificate's current version expires (Unix time)", CERTIFICATE_LABELS),
        Family(RENEWAL, "gauge", "When certmate renews the certificate next (Unix time)", CERTIFICATE_LABELS),
        Family(
            READY, "gauge",
            "1 for the certificate's condition: True when its current version is valid now (issued, not expired, "
            "not revoked), False otherwise", (*CERTIFICATE_LABELS, "condition"),
        ),
    ]  # fmt: skip
    for index, family in enumerate(families):
        family.body.extend(row[index] for row in rows if row[index] is not None)
    return families


@dataclass
class JobCounts:
    count: int = 0
    timed: int = 0  # with a duration: finished, with both times
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(DURATION_BUCKETS))


def job_counts(rows: Iterable[tuple]) -> dict[tuple[str, str, str], JobCounts]:
    """{(tenant, operation, status): counts} from reads.JOBS_SQL's groups; ``within`` is how many bounds
    are at or above the duration, i.e. the last ``within`` buckets hold it."""
    counts: dict[tuple[str, str, str], JobCounts] = {}
    for tenant, operation, status, within, count, seconds in rows:
        entry = counts.setdefault((tenant, operation, status), JobCounts())
        entry.count += count
        if within is None:
            continue
        entry.timed += count
        entry.seconds += seconds
        for index in range(len(DURATION_BUCKETS) - within, len(DURATION_BUCKETS)):
            entry.buckets[index] += count
    return counts


def job_families(rows: Iterable[tuple]) -> list[Family]:
    finished = Family(
        "certmate_jobs", "counter", "Jobs finished (issue, renew, revoke), by how they ended",
        ("tenant", "operation", "status"),
    )  # fmt: skip
    open_jobs = {
        "queued": Family("certmate_queue_depth", "gauge", "Jobs waiting for a worker", ("tenant", "operation")),
        "running": Family("certmate_jobs_running", "gauge", "Jobs a worker is running", ("tenant", "operation")),
    }
    histogram = Family(
        "certmate_job_duration_seconds", "histogram", "How long finished jobs ran (start to end)",
        ("tenant", "operation", "status"),
    )  # fmt: skip
    for labels, counts in job_counts(rows).items():
        tenant, operation, status = labels
        if status in open_jobs:
            open_jobs[status].add((tenant, operation), counts.count)
            continue
        finished.add(labels, counts.count)
        if not counts.timed:
            continue
        for bound, within in zip(DURATION_BUCKETS, counts.buckets, strict=True):
            histogram.add(labels, within, suffix="_bucket", le=repr(bound))
        histogram.add(labels, counts.timed, suffix="_bucket", le="+Inf")
        histogram.add(labels, counts.timed, suffix="_count")
        histogram.add(labels, counts.seconds, suffix="_sum")
    return [finished, open_jobs["queued"], open_jobs["running"], histogram]


def counted(name: str, help_text: str, labels: Sequence[str], rows: Iterable[tuple]) -> Family:
    """A gauge of rows counted by the columns after the tenant (the last column is the count)."""
    family = Family(name, "gauge", help_text, labels)
    for *values, count in rows:
        family.add(values, count)
    return family


def sweep_families(rows: Iterable[tuple]) -> list[Family]:
    finished = Family(
        "certmate_renewal_sweep_timestamp_seconds", "gauge", "When the last renewal sweep finished (Unix time)",
        ("tenant",),
    )  # fmt: skip
    duration = Family(
        "certmate_renewal_sweep_duration_seconds", "gauge", "How long the last renewal sweep took", ("tenant",)
    )
    for tenant, finished_at, seconds in rows:
        finished.add((tenant,), finished_at)
        duration.add((tenant,), seconds)
    return [finished, duration]


def process_families(schemas: Sequence[str]) -> list[Family]:
    """certmate.metrics' counters, summed over processes, for these tenants only."""
    wanted = set(schemas)
    families = []
    for metric in process_registry().collect():
        family = None
        for sample in metric.samples:
            if not sample.name.endswith("_total") or sample.labels.get("tenant") not in wanted:
                continue  # _created samples are not kept across processes; another tenant's are not ours
            if family is None:
                family = Family(metric.name, "counter", metric.documentation, list(sample.labels))
            family.add([sample.labels[label] for label in family.labels], sample.value)
        if family is not None:
            families.append(family)
    return families


PUBLICATIONS = (
    "certmate_publications",
    "Publications of versions to storage targets, by state (failed: gave up retrying; pending: not there yet)",
    ("tenant", "state"),
)
DELIVERIES = (
    "certmate_notification_deliveries",
    "Notifications to channels, by channel kind and status",
    ("tenant", "channel_kind", "status"),
)


def all_families(schemas: Sequence[str]) -> list[Family]:
    rows = read_all(schemas, (EXPIRY, RENEWAL, READY))
    return [
        *certificate_families(rows["certificates"]),
        *job_families(rows["jobs"]),
        counted(*PUBLICATIONS, rows["publications"]),
        counted(*DELIVERIES, rows["deliveries"]),
        *sweep_families(rows["sweeps"]),
        *process_families(schemas),
    ]
