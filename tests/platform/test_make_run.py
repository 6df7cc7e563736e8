"""`make run` on a machine with nothing configured: embedded PostgreSQL, filesystem broker, demo tenant,
web + worker + beat, and Ctrl-C stops everything (the launcher itself, without the pip install)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def get(port: int, host: str, path: str = "/api/health") -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.worker
def test_make_run_serves_platform_and_demo_then_stops_on_ctrl_c(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(CERTMATE_VAR_DIR=str(tmp_path / "var"), PORT=str(port), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "certmate.devserver"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            output = log_path.read_text()
            if "certmate is running" in output and "ready." in output:
                try:
                    if get(port, "demo.localhost")[0] == 200:
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
            if launcher.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not come up:\n{output[-4000:]}")
            time.sleep(0.5)

        children = psutil.Process(launcher.pid).children(recursive=True)
        commands = " ".join(" ".join(child.cmdline()) for child in children)
        assert "runserver" in commands and " worker" in commands and " beat" in commands
        _, body = get(port, "demo.localhost")
        assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "tenant": "demo"}
        assert get(port, "localhost")[0] == 200
        assert get(port, "nobody.localhost")[0] == 404
        assert get(port, "demo.localhost", "/admin/login/")[0] == 200
        # Debug pages are on here, and only here (production refuses them, tests and manage.py leave them off),
        # on the public host: a tenant's host answers its portal's 404 page, never the URL listing.
        status, page = get(port, "localhost", "/no-such-page/")
        assert status == 404 and "Using the URLconf defined in" in page
        status, page = get(port, "demo.localhost", "/no-such-page/")
        assert status == 404 and "There is no page at" in page and "Using the URLconf" not in page
        logins = re.findall(r"New (platform|tenant demo) login \(shown once\): (\S+)", output)
        assert logins == [
            ("platform", f"http://localhost:{port}/admin/"),
            ("tenant demo", f"http://demo.localhost:{port}/admin/"),
        ]
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            pytest.fail("make run did not stop within 60 s of Ctrl-C")
    assert launcher.returncode == 0
    alive = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], "web, worker, beat and the embedded PostgreSQL must all stop"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], "nothing started for this folder may outlive make run"
