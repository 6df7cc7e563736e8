"""A real Celery worker process for tests, on the test database and the test broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from certmate.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url_of_test_db() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{credentials}@/{db['NAME']}?host={quote(host)}"
    return f"postgresql://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, log_path: Path, *, concurrency: int = 4, extra_env: dict | None = None, loglevel: str = "INFO"):
        self.log_path = log_path
        self.concurrency = concurrency
        self.loglevel = loglevel
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "certmate.settings.test",
            "DATABASE_URL": database_url_of_test_db(),
            **self.extra_env,
        }
        argv = [
            sys.executable, "-m", "celery", "-A", "certmate", "worker", "--loglevel", self.loglevel,
            "--pool", "prefork", "--concurrency", str(self.concurrency),
            "--without-heartbeat", "--without-mingle", "--without-gossip",
            "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while "ready." not in self.log_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the Celery worker did not start:\n{self.log_text()[-3000:]}")
            time.sleep(0.2)
        return self

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def purge_broker() -> None:
    """Nothing left over from an earlier, interrupted run."""
    celery_app.control.purge()
