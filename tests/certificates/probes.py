"""Stand-ins for certbot's main() that the launcher runs in a certbot child: they report what the
child can see. Imported in the child only, so no Django here."""

from __future__ import annotations

import json
import os
import time


def print_env(args: list[str]) -> int:
    print(json.dumps(dict(os.environ)))
    return 0


def sleep_long(args: list[str]) -> int:
    print("started", flush=True)
    time.sleep(60)
    return 0


def _ancestors() -> list[int]:
    pids, pid = [], os.getppid()
    while pid > 1 and len(pids) < 10:
        pids.append(pid)
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return pids


def _try_read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(1_000_000).decode(errors="replace")
    except OSError as error:
        return f"<{type(error).__name__}>"


def look_around(args: list[str]) -> int:
    """What this child can read: its environment, each ancestor's, its open descriptors and the files
    named in CERTMATE_PROBE_FILES."""
    seen: dict[str, str] = {"self/environ": _try_read("/proc/self/environ")}
    for pid in _ancestors():
        seen[f"{pid}/environ"] = _try_read(f"/proc/{pid}/environ")
        seen[f"{pid}/cmdline"] = _try_read(f"/proc/{pid}/cmdline")
    listed = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    fds = [fd for fd in listed if os.path.exists(f"/proc/self/fd/{fd}")]  # not the listing's own
    for fd in fds:
        seen[f"fd/{fd}"] = os.readlink(f"/proc/self/fd/{fd}")
        if fd > 2:
            seen[f"fd/{fd}/content"] = _try_read(f"/proc/self/fd/{fd}")
    for path in filter(None, os.environ.get("CERTMATE_PROBE_FILES", "").split(":")):
        seen[f"file:{path}"] = _try_read(path)
    print(json.dumps({"uid": os.getuid(), "ancestors": _ancestors(), "fds": fds, "seen": seen}))
    return 0


def sleep_with_pid(args: list[str]) -> int:
    with open(os.path.join(os.getcwd(), "probe.pid"), "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(120)
    return 0


def fail_like_certbot(args: list[str]) -> int:
    """certbot 5.8's own lines for a TSIG key the DNS server refused, naming its log file in the run's folder."""
    log = os.path.join(os.getcwd(), "logs", "letsencrypt.log")
    print("Requesting a certificate for x.certmate.test\n")
    print(f"Saving debug log to {log}")
    print(
        "Encountered exception during recovery: certbot.errors.PluginError: Encountered error deleting TXT "
        "record: The peer didn't like the signature we sent\n"
        "Encountered error adding TXT record: The peer didn't like the signature we sent\n"
        "Ask for help or search for solutions at https://community.letsencrypt.org. "
        f"See the logfile {log} or re-run Certbot with -v for more details."
    )
    return 1
