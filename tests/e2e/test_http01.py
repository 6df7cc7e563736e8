"""HTTP-01 through the real path: certbot against Pebble, whose validator fetches
http://<name>/.well-known/acme-challenge/<token> from a real web server (names under http.certmate.test
resolve to this machine through the session's BIND9). certmate's own web process answers what the
order (run here, in-process, as a worker runs it) published; in webroot mode a plain static server
serves the file certmate wrote into the tenant's folder."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import HttpChallenge, Tenant
from apps.certificates.models import Job, JobStatus
from apps.certificates.services import certificate_issue, certificate_request
from tests.conftest import TENANT_A, TENANT_B
from tests.e2e.issuance import ca_account_for, leftovers, unique
from tests.e2e.test_issuance import assert_chains_to
from tests.e2e.web import CertmateWeb, StaticSite, http_get
from tests.factories import TEST_ACTOR
from tests.worker import database_url_of_test_db

pytestmark = pytest.mark.tools
CHALLENGE = "/.well-known/acme-challenge/"


@pytest.fixture(scope="module")
def web(django_db_setup):
    """certmate's web process (another process than the one running the orders)."""
    with CertmateWeb(database_url=database_url_of_test_db()) as server:
        yield server


def issued(tenant, pebble, names: list[str], **options):
    """One http-01 order for ``names`` run as a worker runs it: the finished job."""
    ca = ca_account_for(tenant, pebble)
    with tenant_context(tenant):
        job = certificate_request(
            identifier=names[0], san_domains=names[1:], ca_account=ca, challenge="http-01", actor=TEST_ACTOR, **options
        )
        certificate_issue(job_id=job.pk)
        return Job.objects.select_related("version", "certificate").get(pk=job.pk)


def http_names() -> list[str]:
    domain = f"{unique()}.http.certmate.test"
    return [domain, f"www.{domain}"]


def test_certmate_answers_the_cas_http01_and_keeps_nothing_after(tenant_a, web, pebble_factory):
    pebble = pebble_factory(http_port=web.port)
    names = http_names()
    before = leftovers()
    job = issued(tenant_a, pebble, names)
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-3000:]}"
    version = job.version
    assert sorted(version.san) == sorted(names)
    assert_chains_to(version, pebble.root_pem())
    assert job.certificate.current_version_id == version.pk and job.certificate.dns_account_id is None
    assert not HttpChallenge.objects.filter(domain__in=names).exists(), "the order withdrew its challenges"
    # Other processes' runs come and go in the same temporary folder; none of this one's is left.
    assert not [name for name in leftovers() - before if Path(tempfile.gettempdir(), name, "http01").exists()]


def test_webroot_mode_writes_the_token_for_the_web_server_and_removes_it(tenant_a, pebble_factory, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    site = tmp_path / TENANT_A["slug"] / "site"
    site.mkdir(parents=True)
    with StaticSite(site) as static:
        pebble = pebble_factory(http_port=static.port)
        names = http_names()
        job = issued(tenant_a, pebble, names, webroot=str(site))
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{job.output[-3000:]}"
    assert sorted(job.version.san) == sorted(names)
    fetched = [path for path, status in static.requests if path.startswith(CHALLENGE) and status == 200]
    assert len(fetched) >= 2, f"the CA fetched each name's token from the web server: {static.requests}"
    folder = site / ".well-known" / "acme-challenge"
    assert folder.is_dir() and list(folder.iterdir()) == [], "the token files are removed after the order"
    assert oct(folder.stat().st_mode & 0o777) == "0o755", "the web server can read the folders certmate made"
    assert not HttpChallenge.objects.filter(domain__in=names).exists(), "webroot mode publishes no row"


def test_a_link_planted_in_the_webroot_is_not_followed(tenant_a, pebble_factory, settings, tmp_path):
    settings.CERTMATE_WEBROOT_ROOTS = [f"{tmp_path}/{{tenant}}"]
    site = tmp_path / TENANT_A["slug"] / "site"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "acme-challenge").mkdir(parents=True)
    site.mkdir(parents=True)
    (site / ".well-known").symlink_to(elsewhere)
    with StaticSite(site) as static:
        job = issued(tenant_a, pebble_factory(http_port=static.port), http_names()[:1], webroot=str(site))
    assert job.status == JobStatus.FAILED
    assert "symbolic link" in job.error and f"{site}/.well-known" in job.error, job.error
    assert list((elsewhere / "acme-challenge").iterdir()) == [], "nothing was written where the link points"


@pytest.fixture
def committed_challenges(live_db):
    """One challenge per test tenant, committed (the web process reads them), removed afterwards."""
    made = []
    for spec in (TENANT_A, TENANT_B):
        token = unique("tok_") + "x" * 30
        tenant = Tenant.objects.get(schema_name=spec["slug"])
        expires = timezone.now() + timedelta(minutes=5)
        domain = f"{unique()}.http.certmate.test"
        row = HttpChallenge.objects.create(
            tenant=tenant, token=token, key_authorization=f"{token}.{'k' * 43}", domain=domain, expires_at=expires
        )
        made.append(row)
    yield made
    HttpChallenge.objects.filter(pk__in=[row.pk for row in made]).delete()


def test_the_web_process_answers_each_token_on_its_own_name_only(web, committed_challenges):
    alpha, beta = committed_challenges
    assert http_get(web.port, f"{alpha.domain}:80", CHALLENGE + alpha.token) == (200, alpha.key_authorization.encode())
    assert http_get(web.port, beta.domain, CHALLENGE + beta.token) == (200, beta.key_authorization.encode())
    assert http_get(web.port, beta.domain, CHALLENGE + alpha.token)[0] == 404, "another tenant's token, wrong name"
    assert http_get(web.port, TENANT_A["domain"], CHALLENGE + alpha.token)[0] == 404
    HttpChallenge.objects.filter(pk=alpha.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert http_get(web.port, alpha.domain, CHALLENGE + alpha.token)[0] == 404, "expired"
