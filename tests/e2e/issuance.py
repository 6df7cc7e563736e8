"""Helpers for issuance tests: a tenant's CA and DNS accounts pointing at the test Pebble and BIND9."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from django_tenants.utils import tenant_context

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.models import CaAccount, DnsAccount, Job, JobStatus
from tests.e2e.servers import Bind9, Pebble
from tests.factories import TEST_ACTOR


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def rfc2136_credentials(bind9: Bind9, *, secret: str | None = None) -> dict[str, str]:
    return {
        "nameserver": "127.0.0.1",
        "port": str(bind9.port),
        "tsig_key": bind9.tsig_name,
        "tsig_secret": secret or bind9.tsig_secret,
        "tsig_algorithm": "HMAC-SHA256",
    }


def ca_account_for(tenant, pebble: Pebble, *, eab: tuple[str, str] | None = None) -> CaAccount:
    with tenant_context(tenant):
        return ca_account_create(
            actor=TEST_ACTOR,
            name=unique("pebble-"),
            directory=pebble.directory_url,
            email="admin@certmate.test",
            trust_bundle=pebble.ca_bundle.read_text(),
            eab_kid=eab[0] if eab else "",
            eab_hmac_key=eab[1] if eab else "",
        )


def accounts_for(
    tenant,
    pebble: Pebble,
    bind9: Bind9,
    *,
    eab: tuple[str, str] | None = None,
    tsig_secret: str | None = None,
    **dns_options,
) -> tuple[CaAccount, DnsAccount]:
    """A CA account at ``pebble`` and an rfc2136 DNS account at ``bind9``, whose active propagation check
    asks ``bind9`` itself (``dns_options`` override propagation_seconds, propagation_check, ...)."""
    ca = ca_account_for(tenant, pebble, eab=eab)
    with tenant_context(tenant):
        dns = dns_account_create(
            actor=TEST_ACTOR,
            name=unique("bind-"),
            provider="rfc2136",
            credentials=rfc2136_credentials(bind9, secret=tsig_secret),
            **{"propagation_seconds": 1, "check_nameservers": [f"{bind9.host}:{bind9.port}"], **dns_options},
        )
    return ca, dns


def wait_for_job(tenant, job_id: int, *, timeout: float = 180) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(tenant):
            job = Job.objects.select_related("version", "certificate").get(pk=job_id)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) or time.monotonic() > deadline:
            return job
        time.sleep(0.25)


def leftovers() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("certmate-certbot-")}


def holding(folders: set[str], secret: str) -> list[str]:
    """Files under these run folders that contain ``secret`` (other processes' runs may come and go)."""
    found = []
    for folder in folders:
        for path in Path(tempfile.gettempdir(), folder).rglob("*"):
            try:
                if path.is_file() and secret in path.read_text(errors="ignore"):
                    found.append(str(path))
            except OSError:
                continue
    return found
