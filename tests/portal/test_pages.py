"""What every portal page is made of: never Django's debug page, nothing loaded from another host,
nothing the content security policy refuses, the dark-mode toggle, landmarks for assistive
technology, and a help page that speaks of this tenant's own host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.portal.conftest import browser, host_of
from tests.portal.test_access import PAGES, PUBLIC_PAGES

DEBUG_MARKS = ("Using the URLconf", "Django tried these URL patterns", "DEBUG = True")


class _Page(HTMLParser):
    """The URLs a page makes a browser fetch or offer (src, href, action, hx-get...), its inline
    scripts and styles, and its landmarks."""

    def __init__(self):
        super().__init__()
        self.urls, self.inline_scripts, self.style_attrs, self.tags = [], 0, 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for name in ("src", "href", "action", "hx-get", "hx-post", "formaction", "poster", "data"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        if tag == "style" or "style" in attrs:
            self.style_attrs += 1


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def every_page(tenant, signed_in):
    """(path, HTML) of every page for an admin (who sees the most), and the sign-in pages anonymously."""
    admin = signed_in(tenant, "admin")
    for path in PAGES:
        yield path, admin.get(path).content.decode()
    yield "/nope/", admin.get("/nope/").content.decode()
    for path in PUBLIC_PAGES:
        yield path, browser(tenant).get(path).content.decode()


def test_no_page_loads_or_links_anything_from_another_host(tenant_a, signed_in):
    host = host_of(tenant_a)
    for path, html in every_page(tenant_a, signed_in):
        page = parse(html)
        assert page.urls, path
        for url in page.urls:
            assert not url.startswith("//"), (path, url)
            if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
                assert re.match(rf"^https?://{re.escape(host)}(/|$)", url), (path, url)
        assert not re.search(r"https?://(?!" + re.escape(host) + r")[\w.-]+", html), path


def test_every_page_keeps_to_the_content_security_policy(tenant_a, signed_in):
    for path, html in every_page(tenant_a, signed_in):
        page = parse(html)
        assert page.inline_scripts == 0, path  # script-src 'self': only files
        assert page.style_attrs == 0, path  # style-src 'self': only the style sheet


def test_the_static_files_are_in_the_repository_and_served(tenant_a, signed_in):
    client = signed_in(tenant_a, "viewer")
    scripts = [url for tag, attrs in parse(client.get("/").content.decode()).tags for url in [attrs.get("src")] if url]
    assert scripts == ["/static/portal/theme.js", "/static/portal/htmx.min.js", "/static/portal/portal.js"]
    for name in ("portal/portal.css", "portal/theme.js", "portal/portal.js", "portal/htmx.min.js"):
        assert finders.find(name), name
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
    htmx = b"".join(client.get("/static/portal/htmx.min.js").streaming_content)
    assert b"htmx" in htmx and len(htmx) > 40_000  # the real library, not a placeholder


def test_every_page_has_the_dark_mode_toggle_and_follows_the_system(tenant_a, signed_in):
    css = Path(finders.find("portal/portal.css")).read_text()
    assert "color-scheme: light dark" in css and "light-dark(" in css
    assert ':root[data-theme="dark"] { color-scheme: dark; }' in css
    theme = Path(finders.find("portal/theme.js")).read_text()
    assert "localStorage" in theme and "data-theme" in theme
    for path, html in every_page(tenant_a, signed_in):
        assert "data-theme-toggle" in html, path
        # theme.js runs before the style sheet, synchronously: the chosen theme is set before any paint.
        head = html[: html.index("</head>")]
        assert head.index("portal/theme.js") < head.index("portal/portal.css"), path
        assert re.search(r'<script src="/static/portal/theme.js"></script>', head), path


def test_every_page_has_a_skip_link_landmarks_and_a_title(tenant_a, signed_in):
    for path, html in every_page(tenant_a, signed_in):
        page = parse(html)
        tags = [tag for tag, _ in page.tags]
        assert '<a class="skip-link" href="#main">' in html, path
        assert '<main id="main"' in html, path
        for landmark in ("header", "main", "footer"):
            assert landmark in tags, (path, landmark)
        assert re.search(r"<title>[^<]+ · Alpha · certmate</title>", html), path
        assert '<html lang="en">' in html, path
        assert tags.count("h1") == 1, path
        # Every form control has a label.
        labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
        for tag, attrs in page.tags:
            if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
                assert attrs.get("id") in labelled or attrs.get("aria-label"), (path, attrs)


def test_a_signed_in_page_has_the_navigation_landmark(tenant_a, signed_in):
    html = signed_in(tenant_a, "viewer").get("/").content.decode()
    assert '<nav id="portal-nav" class="sidenav" aria-label="Main">' in html
    assert 'aria-controls="portal-nav" aria-expanded="false" data-nav-toggle' in html  # the mobile menu


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_urls_answer_the_portal_404_never_the_debug_page(tenant_a, signed_in, settings, debug):
    settings.DEBUG = debug
    for client in (signed_in(tenant_a, None), signed_in(tenant_a, "viewer")):
        root = client.get("/")
        assert root.status_code in (200, 302)
        for path in ("/nope/", "/sso/nope/", "/static-nope", "/help/extra/"):
            response = client.get(path)
            assert response.status_code == 404, path
            page = response.content.decode()
            assert "There is no page at" in page, path
            assert not any(mark in page for mark in DEBUG_MARKS), path


def test_unknown_api_urls_still_answer_json(tenant_a, signed_in, settings):
    settings.DEBUG = True
    response = signed_in(tenant_a, None).get("/api/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_missing_trailing_slash_is_added(tenant_a, signed_in):
    client = signed_in(tenant_a, None)
    assert client.get("/login?next=/help/")["Location"] == "/login/?next=/help/"
    assert client.get("/admin")["Location"] == "/admin/"
    assert client.post("/login").status_code == 404  # never for a POST: its body would be lost


def test_the_help_page_speaks_of_the_tenants_own_host(tenant_a, tenant_b, signed_in):
    for tenant in (tenant_a, tenant_b):
        html = signed_in(tenant, "viewer").get("/help/").content.decode()
        assert f"export CERTMATE=http://{host_of(tenant)}" in html
        assert 'curl -H "Authorization: Bearer $TOKEN" "$CERTMATE/api/certificates' in html
        assert 'href="/api/docs/"' in html and 'href="/api/redoc/"' in html
    other = signed_in(tenant_a, "viewer").get("/help/").content.decode()
    assert host_of(tenant_b) not in other


def test_the_api_docs_the_help_page_links_to_are_served(tenant_a, signed_in):
    client = signed_in(tenant_a, "viewer")
    for url in ("/api/docs/", "/api/redoc/"):
        assert client.get(url).status_code == 200


def test_an_unknown_api_url_is_a_json_404_even_with_a_cookie_and_no_csrf_token(tenant_a, client):
    from tests.conftest import TENANT_A

    client.cookies["csrftoken"] = "x" * 32
    client.cookies["sessionid"] = "nope"
    client.handler.enforce_csrf_checks = True
    response = client.put("/api/ca-accounts/nothing/here", "{}", content_type="application/json",
                          headers={"host": TENANT_A["domain"]})  # fmt: skip
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
