"""What starting certbot costs per run: a child of the clean launcher process ("fork") against a new
interpreter ("spawn").

    .venv/bin/python bench/certbot_start.py [--runs 10]

Each run is `certbot certificates` in a fresh folder: certbot starts, finds its plugins (loading
certbot-dns-multi's lego library, which the launcher leaves to each child), reads its empty config
folder and exits. Runs are interleaved (fork, spawn, fork, ...) after one unmeasured run each (the
launcher process starts on the first). Prints both medians of wall time and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.certificates.acme import launch  # noqa: E402


def one_run(start) -> float:
    folder = Path(tempfile.mkdtemp(prefix="certmate-bench-"))
    try:
        args = ["certificates", "--config-dir", str(folder / "config"), "--work-dir", str(folder / "work")]
        args += ["--logs-dir", str(folder / "logs")]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder), "LANG": "C.UTF-8"}
        began = time.perf_counter()
        code, output = start(args, env=env, cwd=folder, timeout=120)
        seconds = time.perf_counter() - began
        if code != 0:
            raise SystemExit(f"certbot failed: {output[-500:]}")
        return seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    launchers = {"fork": launch.fork, "spawn": launch.spawn}
    for start in launchers.values():
        one_run(start)  # unmeasured: the launcher process starts, caches fill
    times: dict[str, list[float]] = {name: [] for name in launchers}
    for _ in range(options.runs):
        for name, start in launchers.items():
            times[name].append(one_run(start))
    fork, spawn = (statistics.median(times[name]) for name in ("fork", "spawn"))
    print(f"runs: {options.runs} each")
    print(f"fork  (child of the launcher process): median {fork * 1000:.0f} ms")
    print(f"spawn (new interpreter):               median {spawn * 1000:.0f} ms")
    print(f"spawn / fork = {spawn / fork:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
