import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from certmate.celery import app as celery_app
from tests.conftest import PUBLIC_HOST, TENANT_A


@pytest.mark.parametrize(("host", "tenant"), [(PUBLIC_HOST, "public"), (TENANT_A["domain"], "alpha")])
def test_health_is_ok_on_every_host(db, client, host, tenant):
    response = client.get("/api/health", headers={"host": host})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "tenant": tenant}


@pytest.fixture
def broker_down():
    # Nothing listens on port 9 of loopback: the broker is unreachable.
    saved = {key: celery_app.conf.get(key) for key in ("broker_url", "broker_transport_options")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_transport_options={})
    yield
    celery_app.conf.update(saved)


def test_health_names_the_broker_when_it_is_down(db, client, broker_down):
    response = client.get("/api/health", headers={"host": TENANT_A["domain"]})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down: ")
    assert body["error"] == "unreachable: broker"


def test_health_answers_503_naming_the_database_when_it_is_down(tmp_path):
    """A real web process whose database does not answer: the health check still answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "certmate.settings.test",
        # Port 9 (discard) on loopback: nothing answers.
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/certmate",
    }
    root = Path(__file__).resolve().parents[2]
    # A plain WSGI server around certmate.wsgi (runserver itself needs the database to start).
    serve = (
        "import sys; from wsgiref.simple_server import make_server; from certmate.wsgi import application; "
        "make_server('127.0.0.1', int(sys.argv[1]), application).serve_forever()"
    )
    argv = [sys.executable, "-c", serve, str(port)]
    server = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Host": "localhost"})
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
                pytest.fail("health answered 200 without a database")
            except urllib.error.HTTPError as exc:
                status, body = exc.code, json.loads(exc.read())
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail("the web process did not start")
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "down: OperationalError"
    assert "127.0.0.1" not in json.dumps(body), "connection details stay in the log"
    assert body["checks"]["broker"] == "ok"
    assert body["error"] == "unreachable: database"
