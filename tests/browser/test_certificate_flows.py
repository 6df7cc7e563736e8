"""The certificate pages end to end in a real browser, as a person would use them: request a wildcard
certificate from Pebble through BIND9 (a real Celery worker issues it) and watch its job reach
succeeded without reloading, download the PKCS#12 with a password and open it, revoke it; issue a
client certificate from a private CA and check it with openssl; a viewer sees the certificate but no
write control. Every page passes the visit checks (same host, no console error, axe).

These pages (portal:request, portal:certificate) come from branch portal-certs: until they are
registered, the tests skip with the page's name (tests/browser/pages.require).
"""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from apps.certificates.pki.services import ca_hierarchy_create
from tests.browser.pages import require
from tests.e2e.conftest import bind9, pebble  # noqa: F401 - the session's BIND9 and Pebble
from tests.e2e.issuance import accounts_for, unique
from tests.factories import TEST_ACTOR

pytestmark = [pytest.mark.tools, pytest.mark.worker]
JOB_TIMEOUT_MS = 240_000  # a certbot order against Pebble: seconds; a loaded CI machine: more
PKCS12_PASSWORD = "browser-test-pfx-password"


def certificate_of(page) -> int:
    """The certificate's id from its page's URL (/certificates/<pk>/)."""
    found = re.search(r"/certificates/(\d+)/", page.url)
    assert found, page.url
    return int(found.group(1))


def choose(select, text: str) -> None:
    """Select the option of ``select`` whose label contains ``text``."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


def download(page, click) -> bytes:
    with page.expect_download() as started:
        click()
    return started.value.path().read_bytes()  # Playwright's temporary copy


def test_request_watch_download_and_revoke_an_acme_certificate(portal, worker, pebble, bind9):  # noqa: F811
    request_path = require("portal:request")
    require("portal:certificate", 1)
    with tenant_context(portal.tenant):
        ca, dns = accounts_for(portal.tenant, pebble, bind9)
    apex = f"{unique()}.certmate.test"
    page = portal.page("operator")
    portal.visit(page, f"{request_path}?engine=acme")
    page.get_by_label("domain names").fill(f"*.{apex}\n{apex}")
    choose(page.get_by_label("CA account"), ca.name)
    choose(page.get_by_label("DNS account"), dns.name)
    page.get_by_role("button", name="Request", exact=True).click()
    page.wait_for_url(re.compile(r"/certificates/\d+/$"))
    portal.check(page)
    pk = certificate_of(page)
    jobs = page.locator("#certificate-jobs")
    assert jobs.locator("[data-state=queued], [data-state=running]").count() == 1  # open, shown as such
    # No reload from the test: the page follows the job by itself until it has succeeded.
    jobs.locator("[data-state=succeeded]").wait_for(timeout=JOB_TIMEOUT_MS)
    page.locator("#versions tbody tr").first.wait_for()
    portal.check(page)
    portal.screenshot(page, "certificate")

    # The PKCS#12 asks for a password, and opens with it.
    page.get_by_label("File", exact=True).select_option("cert.pfx")
    page.get_by_label("PKCS#12 password").fill(PKCS12_PASSWORD)
    content = download(page, lambda: page.get_by_role("button", name="Download", exact=True).click())
    key, leaf, chain = pkcs12.load_key_and_certificates(content, PKCS12_PASSWORD.encode())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(names) == sorted([f"*.{apex}", apex])
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()
    assert chain, "the issuers come with it"

    # Revoke with a reason: the version shows as revoked once the CA has said so.
    page.get_by_role("link", name=re.compile("^Revoke")).click()
    portal.check(page)
    page.get_by_label("Reason").select_option("superseded")
    page.get_by_role("button", name="Revoke", exact=True).click()
    page.wait_for_url(re.compile(rf"/certificates/{pk}/$"))
    page.locator("#versions [data-state=revoked]").wait_for(timeout=JOB_TIMEOUT_MS)
    portal.check(page)
    with tenant_context(portal.tenant):
        version = Certificate.objects.select_related("current_version").get(pk=pk).current_version
    assert version.revocation_reason == "superseded" and version.revoked_at is not None


def test_issue_a_client_certificate_from_a_private_ca(portal, tmp_path):
    request_path = require("portal:request")
    require("portal:certificate", 1)
    with tenant_context(portal.tenant):
        root, intermediate = ca_hierarchy_create(name=unique("ca-"), common_name="Browser Test CA", actor=TEST_ACTOR)
    name = unique("laptop-")
    page = portal.page("operator")
    portal.visit(page, f"{request_path}?engine=private")
    profiles = page.get_by_label("CA / profile")
    profiles.select_option(
        profiles.locator("option", has_text=f"{intermediate.name} / client (").get_attribute("value")
    )
    page.get_by_label("Kind").select_option("client")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("subject common name").fill(f"{name} (browser test)")
    page.get_by_label("subject alternative names").fill("email:laptop@example.com")
    page.get_by_role("button", name="Issue", exact=True).click()
    page.wait_for_url(re.compile(r"/certificates/\d+/$"))
    portal.check(page)
    assert name in page.get_by_role("heading", level=1).inner_text()

    cert = tmp_path / "cert.pem"
    cert.write_bytes(download(page, lambda: page.locator("#downloads a", has_text="cert.pem").first.click()))
    (tmp_path / "root.pem").write_text(root.certificate_pem)
    (tmp_path / "chain.pem").write_text(intermediate.certificate_pem)
    checked = subprocess.run(
        ["openssl", "verify", "-purpose", "sslclient", "-CAfile", tmp_path / "root.pem", "-untrusted",
         tmp_path / "chain.pem", cert],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0 and checked.stdout.strip().endswith("OK"), checked.stdout + checked.stderr

    # A viewer reads the same page without any control that changes something.
    viewer = portal.page("viewer")
    portal.visit(viewer, urlsplit(page.url).path)
    assert name in viewer.get_by_role("heading", level=1).inner_text()
    assert portal.write_controls(viewer) == []
