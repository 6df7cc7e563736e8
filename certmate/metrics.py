"""Counters of what leaves no row behind (OCSP answers, CRL downloads, ACME and DNS errors), counted in
whichever process serves or works and summed at scrape time across all of them.

prometheus_client's multiprocess mode: each process writes its counts into its own file under
``CERTMATE_METRICS_DIR``; a scrape reads every file there, those of processes that have exited too (a
counter's past does not end with its process). Everything else /metrics reports is read from the
database at scrape time (apps/metrics), so it is right whichever process answers the scrape.
"""

from __future__ import annotations

import contextlib
import os
import socket

from django.conf import settings
from django.db import connection

os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.CERTMATE_METRICS_DIR)
from prometheus_client import CollectorRegistry, Counter, multiprocess, values

os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], mode=0o700, exist_ok=True)


def _process_identifier() -> str:
    """Names this process's file: the host too, since containers sharing the folder reuse pids."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


# Multiprocess values whatever prometheus_client chose when first imported (it reads the folder's
# variable then; something may have imported it before it was set).
values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

# Not registered anywhere: a scrape reads the files, never this process's memory.
_UNREGISTERED = None

OCSP_REQUESTS = Counter(
    "certmate_ocsp_requests", "OCSP requests answered, by result (good, revoked, unknown, or the refusal)",
    ["tenant", "result"], registry=_UNREGISTERED,
)  # fmt: skip
CRL_REQUESTS = Counter(
    "certmate_crl_requests", "CRL downloads, by HTTP status (200, or 304 when the client's copy is current)",
    ["tenant", "code"], registry=_UNREGISTERED,
)  # fmt: skip
ACME_ERRORS = Counter(
    "certmate_acme_errors", "Failed certbot runs the CA's side caused, by type", ["tenant", "type"],
    registry=_UNREGISTERED,
)  # fmt: skip
DNS_ERRORS = Counter(
    "certmate_dns_errors", "Failed certbot runs the DNS side caused, by type", ["tenant", "type"],
    registry=_UNREGISTERED,
)  # fmt: skip


def tenant_label() -> str:
    """The schema the current request or task runs in: the ``tenant`` label of every series."""
    return connection.schema_name


def count(counter: Counter, **labels: str) -> None:
    """One more, for the current tenant. Never lets a metrics problem (a full disk) fail the caller."""
    with contextlib.suppress(OSError):
        counter.labels(tenant=tenant_label(), **labels).inc()


def process_registry() -> CollectorRegistry:
    """The counters of every process, live or gone, summed: what a scrape reports."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    return registry
