"""`make run`: database, migrations, demo tenant, then web + Celery worker + beat until Ctrl-C.

With no DATABASE_URL the embedded PostgreSQL under var/postgres is started here and handed to the
three processes; with no CELERY_BROKER_URL they share kombu's filesystem broker under var/broker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(argv: list[str], env: dict) -> None:
    result = subprocess.run(argv, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"make run: `{' '.join(argv[1:])}` failed with exit code {result.returncode}")


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each (web, worker and beat stop cleanly on it), then wait; a second Ctrl-C stops waiting."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    with contextlib.suppress(KeyboardInterrupt):
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "certmate.settings.dev")
    if env["DJANGO_SETTINGS_MODULE"] == "certmate.settings.dev":
        env.setdefault("DJANGO_DEBUG", "true")  # debug pages on the developer's own machine, nowhere else
    port = env.get("PORT", "8000")
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit(f"make run: PORT={port!r} is not a TCP port number")
    if not env.get("DATABASE_URL"):
        from certmate.database import embedded_database_url
        from certmate.settings.base import VAR_DIR

        print(f"Starting the embedded PostgreSQL in {VAR_DIR / 'postgres'} (set DATABASE_URL to use another server)")
        env["DATABASE_URL"] = embedded_database_url(VAR_DIR / "postgres")
    # Ctrl-C, SIGTERM and a closed terminal stop everything; Ctrl-C and SIGTERM end with exit status 0,
    # also when started with SIGINT ignored (`make run &`).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        return _serve(env, port)
    except KeyboardInterrupt:
        print("\nmake run: stopped")
        return 0


def _serve(env: dict, port: str) -> int:
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    print("Applying migrations to the public schema, the template and every tenant…")
    _run([*manage, "migrate_schemas", "--noinput", "-v", "0"], env)
    _run([*manage, "bootstrap", "--port", port], env)
    _run([*manage, "renewals", "install-schedule"], env)

    commands = {
        "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [python, "-m", "celery", "-A", "certmate", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "certmate", "beat", "--loglevel", "INFO"],
    }
    # Each in a session of its own: the terminal's Ctrl-C reaches only this launcher, which stops them
    # in turn. Sharing the terminal's process group, worker and beat saw Ctrl-C too and could exit before
    # the launcher noticed it, which then took their exit for a crash (`make: *** Error 1`).
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, argv in commands.items():
            processes[name] = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
        print(
            f"certmate is running: platform http://localhost:{port}/admin/ · "
            f"demo tenant portal http://demo.localhost:{port}/ (its admin at /admin/) · Ctrl-C stops web, worker and "
            "beat"
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"make run: the {name} process exited with code {process.returncode}; stopping the others")
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping web, worker and beat…")
        return 0
    finally:
        _stop(list(processes.values()))


if __name__ == "__main__":
    sys.exit(main())
