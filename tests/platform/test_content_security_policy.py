"""The content security policy allows this origin only, and the admin, Swagger UI and ReDoc still work
under it: no inline script anywhere, inline styles only with the response's nonce (ReDoc excepted)."""

from __future__ import annotations

import re
import subprocess
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler

from tests.conftest import PASSWORD, TENANT_A
from tests.tools import find_program, missing_tool

HOST = TENANT_A["domain"]
PUBLIC_PAGES = ["/admin/login/", "/api/docs/", "/api/docs/?script=", "/api/redoc/"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/user/add/",
    "/admin/certificates/caaccount/add/",
    "/admin/certificates/certificate/",
    "/admin/axes/accessattempt/",
]


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def inline_blocks(html: str, tag: str) -> list[str]:
    """The opening tags of inline <script>/<style> elements (scripts with a src are not inline)."""
    opening = re.findall(rf"<{tag}\b[^>]*>", html, flags=re.IGNORECASE)
    return [o for o in opening if not (tag == "script" and " src=" in o)]


@pytest.mark.parametrize("path", PUBLIC_PAGES + ADMIN_PAGES)
def test_pages_run_no_inline_script_and_style_only_by_nonce(client, tenant_a, path):
    if path in ADMIN_PAGES:
        credentials = {"username": TENANT_A["admin_email"], "password": PASSWORD}
        assert client.post("/admin/login/", credentials, headers={"host": HOST}).status_code == 302
    response = client.get(path, headers={"host": HOST})
    assert response.status_code == 200, path
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert all(source in ("'self'",) or source.startswith("'nonce-") for source in policy["script-src"])
    html = response.content.decode()
    if "javascript" in response["Content-Type"]:
        return  # Swagger UI's start-up script, loaded from the page by URL
    assert inline_blocks(html, "script") == [] or all(
        "application/json" in block for block in inline_blocks(html, "script")
    )
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers need 'unsafe-inline'"
    nonces = [s.removeprefix("'nonce-").rstrip("'") for s in policy["style-src"] if s.startswith("'nonce-")]
    for block in inline_blocks(html, "style"):
        allowed_by_nonce = any(f'nonce="{nonce}"' in block for nonce in nonces)
        assert allowed_by_nonce or (path == "/api/redoc/" and "'unsafe-inline'" in policy["style-src"]), block
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "everything comes from this origin"


def test_only_redoc_widens_the_policy_and_never_for_scripts(client, tenant_a):
    redoc = policy_of(client.get("/api/redoc/", headers={"host": HOST}))
    assert redoc["style-src"] == ["'self'", "'unsafe-inline'"]
    assert redoc["worker-src"] == ["'self'", "blob:"]
    assert redoc["script-src"] == ["'self'"]
    docs = policy_of(client.get("/api/docs/", headers={"host": HOST}))
    assert "'unsafe-inline'" not in docs["style-src"] and "worker-src" not in docs


def test_headers_every_page_carries(client, tenant_a):
    response = client.get("/admin/login/", headers={"host": HOST})
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response.cookies["csrftoken"]["httponly"] is True
    assert response.cookies["csrftoken"]["samesite"] == "Lax"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web_server(django_db_setup, django_db_blocker):
    """certmate served by a thread of this process, reading the committed test tenants."""
    with django_db_blocker.unblock():
        server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://{HOST}:{server.server_port}"
        server.shutdown()


def browse(url: str) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran in Chromium, and the console lines about the policy."""
    chromium = find_program("chromium") or find_program("chromium-browser")
    if chromium is None:
        missing_tool("chromium is not installed")
    argv = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--virtual-time-budget=8000", "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    return result.stdout, [line for line in result.stderr.splitlines() if "Content Security Policy" in line]


@pytest.mark.tools
@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/api/docs/", 'class="opblock-tag'),  # Swagger UI listed the API's operations
        ("/api/redoc/", "certmate API <span>(1.0.0)</span></h1>"),  # ReDoc rendered the schema
        ("/admin/login/", 'id="login-form"'),
    ],
)
def test_docs_and_admin_work_in_a_browser_under_the_policy(web_server, path, rendered):
    dom, violations = browse(web_server + path)
    assert rendered in dom
    # ReDoc's "powered by" logo comes from its maker's site: blocked on purpose, nothing else is.
    violations = [v for v in violations if "cdn.redoc.ly" not in v]
    assert violations == []
