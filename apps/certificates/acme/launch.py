"""Two ways to start certbot for one run; both give it only the environment it is handed, a folder
of its own and a deadline, and return its exit status and output.

- ``spawn``: a new interpreter (``python -c 'certbot.main.main()'``). Simple, but every run pays for
  starting Python and importing certbot with all its DNS plugins (about 1 s of CPU here).
- ``fork``: a clean launcher process (``zygote.py``), started once per worker process with a minimal
  environment, imports certbot and its plugins once; each run is a child forked from it, with its own
  session, environment, folder and output file, killed at the deadline and when the worker goes away.
  The child shares nothing with the worker: not its memory (settings, encryption keys), not its
  environment, not its descriptors.

Either can run certbot as another user (``CERTMATE_CERTBOT_USER``): the worker must be root or hold
CAP_SETUID and CAP_SETGID, and hands the run folder to that user.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

from apps.certificates.acme import confine, zygote

# confine.py as a script: TCP confined as the run's environment says, then certbot's main().
SPAWN_COMMAND = [sys.executable, str(Path(confine.__file__))]
ZYGOTE_SCRIPT = Path(zygote.__file__)
# Switching user (setuid, setgid), handing the folder over (chown) and reading it back (dac_override).
_CAPABILITIES = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_SETGID": 6, "CAP_SETUID": 7}


class Deadline(Exception):
    def __init__(self, output: str):
        super().__init__("deadline passed")
        self.output = output


class LaunchError(RuntimeError):
    """certbot could not be started as configured (a setting, not a certificate, is wrong)."""


# -- running as another user ---------------------------------------------------------------------


def run_as(user: str | None) -> tuple[int, int] | None:
    """(uid, gid) of ``user`` for certbot runs, or None to run as the worker. Fails loudly when the
    worker cannot switch to it."""
    if not user:
        return None
    try:
        entry = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
    except KeyError:
        raise LaunchError(f"CERTMATE_CERTBOT_USER={user!r}: no such user on this machine") from None
    if (entry.pw_uid, entry.pw_gid) == (os.geteuid(), os.getegid()):
        return None
    if os.geteuid() != 0 and not _has_capabilities(*_CAPABILITIES.values()):
        raise LaunchError(
            f"CERTMATE_CERTBOT_USER={user!r}: the worker runs as uid {os.geteuid()} and cannot start certbot as "
            f"another user: run it as root or grant it {', '.join(_CAPABILITIES)}"
        )
    unreachable = [p for p in _python_paths() if not _reachable(p, entry.pw_uid, entry.pw_gid)]
    if unreachable:
        raise LaunchError(
            f"CERTMATE_CERTBOT_USER={user!r}: that user cannot read Python at {unreachable[0]} "
            "(install Python and certmate where every user can read them)"
        )
    return entry.pw_uid, entry.pw_gid


def _python_paths() -> list[str]:
    paths = sysconfig.get_paths()
    return [os.path.realpath(sys.executable), paths["stdlib"], paths["purelib"], paths["platlib"]]


def _reachable(path: str, uid: int, gid: int) -> bool:
    """Whether ``uid`` can get to ``path``: every folder on the way searchable, the end readable."""
    parts = Path(path).resolve().parts
    for depth in range(1, len(parts) + 1):
        current = Path(*parts[:depth])
        try:
            info = current.stat()
        except OSError:
            return False
        need = 0o1 if depth < len(parts) or current.is_dir() else 0o4
        granted = info.st_mode & 0o7
        if info.st_uid == uid:
            granted = (info.st_mode >> 6) & 0o7
        elif info.st_gid == gid:
            granted = (info.st_mode >> 3) & 0o7
        if not granted & need:
            return False
    return True


def _has_capabilities(*bits: int) -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    effective = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), 0)
    return all(effective & (1 << bit) for bit in bits)


def hand_over(folder: Path, user: tuple[int, int] | None) -> None:
    """Give the run folder (and what the worker wrote into it) to certbot's user."""
    if user is None:
        return
    uid, gid = user
    os.chown(folder, uid, gid)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


# -- spawn ---------------------------------------------------------------------------------------


def spawn(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float, user: tuple[int, int] | None = None
) -> tuple[int, str]:
    switch = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}
    process = subprocess.Popen(
        [*SPAWN_COMMAND, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, **switch,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise Deadline(output or "") from None
    except BaseException:
        # The worker is going away (shutdown, a kill): take certbot with it.
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, output or ""


# -- fork (from the launcher process) ------------------------------------------------------------


class Launcher:
    """This worker process's launcher process: started on first use, again after a fork or its death."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(ZYGOTE_SCRIPT), str(self.owner), str(theirs.fileno())],
            env=minimal_environment(), close_fds=True, pass_fds=(theirs.fileno(),), cwd="/",
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        theirs.close()
        self.control = ours
        self.lock = threading.Lock()
        if self.control.recv(16) != b"ready":
            self.close()
            raise LaunchError(f"the certbot launcher process did not start (exit status {self.process.wait()})")

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def open_run(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.control, [b"run"], [theirs.fileno()])
        finally:
            theirs.close()
        return ours

    def close(self) -> None:
        self.control.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


_launcher: Launcher | None = None
_launcher_lock = threading.Lock()


def launcher() -> Launcher:
    global _launcher
    with _launcher_lock:
        if _launcher is None or not _launcher.alive():
            _launcher = Launcher()
        return _launcher


@atexit.register
def _stop_launcher() -> None:
    # The launcher would stop by itself when this process is gone; stopping it first is tidier.
    if _launcher is not None and _launcher.owner == os.getpid():
        _launcher.close()


def minimal_environment() -> dict[str, str]:
    """What the launcher process starts with: enough to find programs and read text, no secret."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": "/nonexistent"}


def fork(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    user: tuple[int, int] | None = None,
    entry: str | None = None,
    path: list[str] | None = None,
) -> tuple[int, str]:
    """``entry`` ("module:function" on ``path``) replaces certbot's main() in tests."""
    request = {"args": args, "env": env, "cwd": str(cwd), "timeout": timeout, "user": user}
    if entry:
        request |= {"entry": entry, "path": path or []}
    run = launcher().open_run()
    with run:
        zygote.send_message(run, json.dumps(request).encode())
        # The supervisor keeps the deadline; this bound only guards against a lost launcher.
        run.settimeout(timeout + 60)
        try:
            answer = json.loads(zygote.receive_message(run))
        except TimeoutError:
            answer = {"deadline": True}
        except EOFError:  # the launcher or the supervisor was killed; certbot died with it
            answer = {"code": 1, "lost": True}
    # Leaving the block closes the socket, even on an exception: the supervisor then kills certbot.
    output = _read(cwd / zygote.OUTPUT_NAME)
    if answer.get("deadline"):
        raise Deadline(output)
    if answer.get("lost"):
        output += "\ncertbot's launcher process stopped before certbot finished\n"
    return int(answer["code"]), output


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
