"""The portal's pages for a signed-in user of a tenant with 10,000 certificates: the dashboard and the
certificate list, against a request that does almost nothing (GET /api/health) in the same run.

    .venv/bin/python bench/portal.py [--certificates 10000] [--requests 200] [--keep]

The same server and data as bench/api_list.py (certmate's WSGI application under wsgiref, DEBUG off,
persistent connections; one tenant with the certificates, a version each), plus what the dashboard
reads: the versions' ends spread over the next 90 days (so the expiring list and counts have rows) and
a finished job per certificate (the recent jobs). An operator's session cookie, as after signing in.
Interleaved, one connection per request: GET /api/health, GET / (the dashboard), GET /certificates/
(first page) and GET /certificates/?page=<random> — the list pages are measured when the portal has
them (portal:certificates), else reported "not available". Aim: p95 under 100 ms for both pages.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_list import (  # noqa: E402
    HOST,
    arguments,
    bench_django,
    measure,
    report_table,
    serve,
    server_start,
    tenant_with_certificates,
    wait_until_up,
)

AIM_MS = 100
PER_PAGE = 50


def dashboard_data(count: int) -> str:
    """Spread the versions' ends, add a finished job per certificate, and sign an operator in: the
    session cookie's value."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.accounts.models import Tenant
    from apps.accounts.services.users import user_create
    from apps.certificates.models import Certificate, CertificateVersion, Job, JobOperation, JobStatus
    from certmate.actors import Actor

    tenant = Tenant.objects.get(domains__domain=HOST)
    with tenant_context(tenant):
        with connection.cursor() as cursor:
            table = CertificateVersion._meta.db_table  # the model's own name, no outside value
            spread = "SET not_after = now() + (id % 90) * interval '1 day' + interval '6 hours'"
            cursor.execute(f"UPDATE {table} {spread}")
        now = timezone.now()
        Job.objects.bulk_create(
            Job(
                certificate_id=pk,
                operation=JobOperation.ISSUE,
                status=JobStatus.SUCCEEDED,
                started_at=now,
                finished_at=now,
                version_id=version_id,
            )
            for pk, version_id in Certificate.objects.values_list("pk", "current_version_id")
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        user = user_create(
            email=f"portal@{HOST}", password=secrets.token_urlsafe(16), role="operator", actor=Actor.command()
        )
        client = Client(HTTP_HOST=HOST)
        client.force_login(user, backend="apps.accounts.sso.backends.PasswordBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Browser:
    """GETs with the session cookie, one connection each (as api_list's client)."""

    def __init__(self, port: int, session: str):
        from django.conf import settings

        self.port, self.cookie = port, f"{settings.SESSION_COOKIE_NAME}={session}"

    def get(self, path: str) -> tuple[float, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        started = time.perf_counter()
        connection.request("GET", path, headers={"Host": HOST, "Cookie": self.cookie})
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return elapsed, body


def kinds_to_measure(count: int) -> tuple[dict, list[str]]:
    """{label: path maker} for what exists, and the labels of what does not."""
    from django.urls import NoReverseMatch, reverse

    pick = random.Random(7)  # noqa: S311 - the same pages each run, not a secret
    kinds = {"GET /api/health": lambda: "/api/health", "GET / (dashboard)": lambda: "/"}
    missing = []
    try:
        listing = reverse("portal:certificates", urlconf="certmate.urls_tenant")
    except NoReverseMatch:
        missing += ["GET /certificates/ (first page)", "GET /certificates/?page=N"]
    else:
        pages = max(1, count // PER_PAGE)
        kinds["GET /certificates/ (first page)"] = lambda: listing
        kinds["GET /certificates/?page=N"] = lambda: f"{listing}?page={pick.randrange(1, pages + 1)}"
    return kinds, missing


def main() -> int:
    args = arguments(__doc__, requests=200)
    if args.serve:
        serve(args.serve)
        return 0

    with contextlib.ExitStack() as cleanup:
        temp = bench_django(cleanup, "certmate-bench-portal-", keep=args.keep)
        print(f"creating {args.certificates} certificates...", file=sys.stderr)
        started = time.perf_counter()
        tenant_with_certificates(args.certificates)
        session = dashboard_data(args.certificates)
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        port, server, log = server_start(cleanup, temp, {})
        browser = Browser(port, session)
        wait_until_up(browser, server, log)

        kinds, missing = kinds_to_measure(args.certificates)
        dashboard = browser.get("/")[1]
        assert f"{args.certificates} certificates in all".encode() in dashboard, "the dashboard must count them all"
        samples = measure(browser, kinds, args.requests)

    report(samples, missing, args)
    return 0


def report(samples: dict[str, list[float]], missing: list[str], args) -> None:
    report_table(samples, args, aim_ms=AIM_MS)
    for kind in missing:
        print(f"{kind:34} {'not available (no portal:certificates page yet)':>40}")


if __name__ == "__main__":
    sys.exit(main())
