"""The portal in a real browser (Chromium through Playwright): signing in, the dashboard's numbers and
expiring list as drawn, recent jobs that update themselves without a reload, the theme toggle and
the system's dark mode, a viewer without write controls, and every built page walked for each role
in light and dark (nothing from another host, no console error, no serious axe finding, screenshots)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateStatus, Job, JobStatus
from apps.certificates.services.requests import certificate_request
from tests.browser.harness import certificate_ending_in
from tests.browser.pages import FOUNDATION, built, path_of
from tests.conftest import PASSWORD
from tests.factories import TEST_ACTOR, accounts, certificate_make

pytestmark = [pytest.mark.tools]


def luminance(page, selector: str = "body") -> float:
    """The relative luminance (0 black .. 1 white) of the element's computed background colour."""
    rgb = page.eval_on_selector(
        selector, "el => getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).slice(0, 3).map(Number)"
    )
    return sum(weight * value / 255 for weight, value in zip((0.2126, 0.7152, 0.0722), rgb, strict=True))


def test_signing_in_leads_to_the_dashboard(portal):
    user = portal.user("operator")
    page = portal.page()
    portal.visit(page, "/")  # anonymous: the sign-in page, not a debug page
    assert page.url == portal.url("/login/?next=/")
    portal.screenshot(page, "sign-in")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD + "-wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()  # the refusal, on the form
    assert page.url.startswith(portal.url("/login/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(portal.url("/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert user.email in page.locator(".user-menu summary").inner_text()
    portal.check(page)


def test_the_dashboard_shows_the_counts_and_what_expires_soon(portal, own_tenant):
    tenant = own_tenant()
    with tenant_context(tenant):
        for n in range(3):
            certificate_ending_in(f"fine{n}.example.com", 80)
        certificate_ending_in("soon.example.com", 5.5)
        certificate_ending_in("later.example.com", 20.5)
        certificate_make("broken.example.com", versions=0, status=CertificateStatus.FAILED)
        certificate_make("waiting.example.com", versions=0)
    here = portal.on(tenant)
    page = here.page("viewer")
    here.visit(page, "/")
    stats = {
        stat.locator(".stat-label").inner_text(): stat.locator(".stat-value").inner_text()
        for stat in page.locator(".stat").all()
    }
    assert stats == {"Active": "5", "Expiring within 30 days": "2", "Failed": "1", "Pending": "1", "Revoked": "0"}
    rows = page.locator("#expiring tbody tr")
    assert rows.locator("th").all_inner_texts() == ["soon.example.com", "later.example.com"]
    assert rows.locator(".badge").all_inner_texts() == ["5 days left", "20 days left"]  # in words...
    badges = [f"#expiring tbody tr:nth-child({n}) .badge" for n in (1, 2)]
    classes = [page.eval_on_selector(badge, "el => el.className") for badge in badges]
    assert classes == ["badge badge--danger", "badge badge--warning"]
    assert luminance(page, badges[0]) != luminance(page, badges[1])  # ...and in colour
    here.screenshot(page, "dashboard-counts")


def _job_status_set(tenant, job_id: int, status: str) -> None:
    """What a worker does, from another thread on its own database connection."""

    def flip():
        try:
            with tenant_context(tenant):
                Job.objects.filter(pk=job_id).update(status=status, started_at=timezone.now())
        finally:
            connections.close_all()

    thread = threading.Thread(target=flip)
    thread.start()
    thread.join(timeout=30)


def test_the_recent_jobs_update_themselves_without_a_reload(portal, own_tenant):
    tenant = own_tenant()
    with tenant_context(tenant):
        accounts()
        job = certificate_request(identifier="live.example.com", actor=TEST_ACTOR)
    here = portal.on(tenant)
    page = here.page("viewer")
    here.visit(page, "/")
    row = page.locator("#recent-jobs tbody tr", has_text="live.example.com")
    assert row.locator("[data-state]").get_attribute("data-state") == "queued"
    page.evaluate("() => { window.__sameDocument = true }")  # gone if the page were loaded again

    _job_status_set(tenant, job.pk, JobStatus.RUNNING)
    row.locator("[data-state=running]").wait_for(timeout=15_000)
    _job_status_set(tenant, job.pk, JobStatus.SUCCEEDED)
    row.locator("[data-state=succeeded]").wait_for(timeout=15_000)
    assert row.locator("[data-state]").inner_text() == "Succeeded"
    assert page.evaluate("() => window.__sameDocument") is True
    assert page.url == here.url("/")
    # Nothing open any more: the fragment stops polling.
    assert page.locator("#recent-jobs[hx-get]").count() == 0
    here.check(page)


@pytest.mark.parametrize("system", ["light", "dark"])
def test_the_theme_follows_the_system_and_the_toggle_switches_it(portal, system):
    other = "dark" if system == "light" else "light"
    page = portal.page("viewer", color_scheme=system)
    portal.visit(page, "/")
    toggle = page.get_by_role("button", name="Dark mode")
    assert portal.theme(page) == system
    assert toggle.get_attribute("aria-pressed") == ("true" if system == "dark" else "false")
    shown = luminance(page)
    assert shown > 0.8 if system == "light" else shown < 0.2

    toggle.click()
    assert portal.theme(page) == other
    assert toggle.get_attribute("aria-pressed") == ("true" if other == "dark" else "false")
    switched = luminance(page)
    assert switched < 0.2 if other == "dark" else switched > 0.8
    portal.assert_accessible(page)  # contrast holds in the chosen theme too

    portal.visit(page, "/help/")  # the choice is kept from page to page
    assert portal.theme(page) == other
    toggle = page.get_by_role("button", name="Dark mode")
    toggle.click()  # back to the system's: the choice is forgotten
    assert page.evaluate("() => localStorage.getItem('certmate-theme')") is None
    assert portal.theme(page) == system


def test_a_viewer_sees_no_write_control(portal):
    viewer = portal.user("viewer")
    for entry in built():
        if entry.role != "viewer" or entry.personal:
            continue
        page = portal.page(viewer)
        portal.visit(page, entry.path, axe=False)
        assert portal.write_controls(page) == [], entry.path
        assert page.get_by_role("link", name="Django admin").count() == 0
    request = path_of("portal:request")
    if request:  # the viewer's menu and dashboard offer no request page; an operator's do
        operator = portal.page("operator")
        portal.visit(operator, "/", axe=False)
        assert operator.locator(f"a[href='{request}']").count() > 0


def test_every_built_page_stays_on_the_tenant_host_and_passes_axe_in_both_themes(portal):
    paths = {entry.url_name for entry in built()}
    assert set(FOUNDATION) <= paths, "the foundation's pages must be in tests/browser/pages.py"
    users = {role: portal.user(role) for role in ("viewer", "operator", "admin")}
    for scheme in ("light", "dark"):
        for entry in built():
            # The least role that opens the page (the fewest controls) and an admin (the most).
            for role in dict.fromkeys([entry.role, "admin"] if entry.role else [None]):
                page = portal.page(users.get(role), color_scheme=scheme)  # None: anonymous
                portal.visit(page, entry.path)
                if role in (None, "admin"):  # the fullest view of each page
                    portal.screenshot(page, entry.name)
    # Not vacuous: the pages did fetch their style sheet and scripts, all from the tenant's host.
    fetched = {url.split("?")[0].rsplit("/", 1)[-1] for url in portal.requested}
    assert {"portal.css", "theme.js", "portal.js", "htmx.min.js"} <= fetched
    assert portal.off_host() == []
