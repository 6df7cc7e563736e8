"""`make run`: database, migrations, demo tenant, then web + Celery worker + beat until Ctrl-C.

With no DATABASE_URL the embedded PostgreSQL under var/postgres is started here and handed to the
three processes; with no CELERY_BROKER_URL they share kombu's filesystem broker under var/broker.
"""

from __future__ import annotations

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
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


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
    processes = {name: subprocess.Popen(argv, cwd=ROOT, env=env) for name, argv in commands.items()}
    print(
        f"certmate is running: platform http://localhost:{port}/admin/ · "
        f"demo tenant http://demo.localhost:{port}/admin/ · Ctrl-C stops web, worker and beat"
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
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
