"""Two ways to start certbot for one run; both give it only the environment it is handed, a folder
of its own and a deadline, and return its exit status and output.

- ``spawn``: a new interpreter (``python -c 'certbot.main.main()'``). Simple, but every run pays for
  starting Python and importing certbot with all its DNS plugins (about 1 s of CPU here).
- ``fork``: certbot and its plugins are imported once in this (worker) process; each run is a forked
  child that calls certbot's main() and exits. The child is still a separate process with its own
  environment, folder and session, killed at the deadline; only the imports are shared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SPAWN_COMMAND = [sys.executable, "-c", "import sys; from certbot.main import main; sys.exit(main())"]


class Deadline(Exception):
    def __init__(self, output: str):
        super().__init__("deadline passed")
        self.output = output


def spawn(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str]:
    process = subprocess.Popen(
        [*SPAWN_COMMAND, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
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


def _certbot_main(args: list[str]) -> int:
    from certbot.main import main

    result = main(args)
    if isinstance(result, str):  # certbot returns a message instead of raising for some errors
        print(result, file=sys.stderr)
        return 1
    return result or 0


_warm = False


def warm_up() -> None:
    """Import certbot and every installed plugin once, so forked runs start with them loaded."""
    global _warm
    if not _warm:
        from certbot._internal.plugins import disco

        disco.PluginsRegistry.find_all()
        _warm = True


Entry = Callable[[list[str]], int]


def fork(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float, entry: Entry = _certbot_main):
    if entry is _certbot_main:
        warm_up()
    output_path = cwd / "certbot-output.log"
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(args, env=env, cwd=cwd, output_path=output_path, entry=entry, parent=parent)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                _kill_group(pid)
                os.waitpid(pid, 0)
                raise Deadline(_read(output_path))
            time.sleep(0.02)
    except Deadline:
        raise
    except BaseException:
        _kill_group(pid)
        os.waitpid(pid, 0)
        raise
    return os.waitstatus_to_exitcode(status), _read(output_path)


def _child(args, *, env, cwd, output_path, entry, parent: int) -> None:
    code = 1
    try:
        _die_with_parent(parent)
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        # The worker's (or a test runner's) stream objects may not write to fds 1 and 2 at all.
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        # Nothing else of the worker's: its database connection above all, which must not outlive it
        # (closing the descriptor sends nothing, so the worker's own connection is undisturbed).
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        import tempfile

        tempfile.tempdir = None  # the parent's cached temp folder: use this run's TMPDIR instead
        import logging

        root = logging.getLogger()
        for handler in root.handlers[:]:  # the worker's handlers; certbot sets up its own
            root.removeHandler(handler)
        code = entry(args)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())  # certbot's own hook prints its readable message
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with_parent(parent: int) -> None:
    """A worker killed mid-run takes its certbot with it (Linux: the parent-death signal)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _kill_group(pid: int) -> None:
    # The child itself too: interrupted before its setsid() it has no group of its own yet.
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError):
            kill(pid, signal.SIGKILL)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
