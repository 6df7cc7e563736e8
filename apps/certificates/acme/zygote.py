"""The certbot launcher process ("zygote"): started by a worker with a minimal environment, it imports
certbot and its plugins once, then forks one child per run. Run as a script, never imported by the
worker: it must not see Django, the settings or the worker's memory.

    python -I zygote.py <worker pid> <control fd>

The worker sends each run a socket over the control socket. For each, the zygote forks a supervisor,
which reads the run's request (arguments, environment, folder, deadline, user) from that socket, forks
the certbot child, kills its process group at the deadline or when the worker goes away (the socket
closes), and answers with the exit status. The child has its own session, folder, environment and
output file, no descriptor of its parents, and dies with its supervisor.

lego's Go runtime (certbot-dns-multi) is not loaded here: it would keep this process's environment,
and a forked Go runtime is not safe. Each child loads it with the run's own environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import time

OUTPUT_NAME = "certbot-output.log"


def _sibling(name: str):
    """A stdlib-only module beside this file (the launcher runs isolated, without the project on its path)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"certmate_launcher_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_confine = _sibling("confine")
_orderhooks = _sibling("orderhooks")  # ARI's "replaces" in the newOrder (imports acme only when used)
_KEEP_OUT = ("certbot_dns_multi",)  # plugins whose import starts lego's Go runtime


def main(argv: list[str]) -> int:
    worker, control_fd = int(argv[1]), int(argv[2])
    _die_with(worker)
    control = socket.socket(fileno=control_fd)
    _warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    control.sendall(b"ready")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 16, 1)
        except InterruptedError:
            continue
        if not message:  # the worker closed its end or died
            return 0
        for fd in fds:
            if os.fork() == 0:
                code = 1
                try:
                    control.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    code = _supervise(socket.socket(fileno=fd))
                finally:
                    os._exit(code)
            os.close(fd)


def _warm_up() -> None:
    """Import certbot and every plugin but those that start a Go runtime."""
    from importlib import metadata

    import certbot.main  # noqa: F401
    from certbot._internal import cli, main  # noqa: F401

    for entry in metadata.entry_points(group="certbot.plugins"):
        if not entry.value.startswith(_KEEP_OUT):
            with contextlib.suppress(Exception):  # a broken plugin fails in its run, not here
                entry.load()


def _supervise(run: socket.socket) -> int:
    request = json.loads(receive_message(run))
    supervisor = os.getpid()
    child = os.fork()
    if child == 0:
        run.close()
        _child(request, supervisor=supervisor)
    deadline = time.monotonic() + float(request["timeout"])
    answer = None
    while answer is None:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            answer = {"code": os.waitstatus_to_exitcode(status)}
        elif time.monotonic() > deadline:
            _kill_group(child)
            answer = {"deadline": True}
        else:
            readable, _, _ = select.select([run], [], [], 0.05)
            if readable and not run.recv(1):  # the worker went away: take certbot with it
                _kill_group(child)
                return 1
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child, 0)
    with contextlib.suppress(OSError):
        send_message(run, json.dumps(answer).encode())
    return 0


def _child(request: dict, *, supervisor: int) -> None:
    code = 1
    try:
        os.setsid()
        user = request.get("user")
        if user:
            uid, gid = user
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        _die_with(supervisor)  # after setuid, which clears the parent-death signal
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        cwd = request["cwd"]
        fd = os.open(os.path.join(cwd, OUTPUT_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # nothing of the zygote's or the supervisor's
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(request["env"])
        # Before anything starts a thread (Go's runtime does): Landlock binds the calling thread and the
        # threads it starts afterwards, never those already running.
        _confine.confine_tcp_from_environment()  # TCP to the egress proxy and DNS only
        _confine.start_dns_check()  # the active propagation check, when the run has one
        _orderhooks.install_from_environment()  # when the run names a certificate its order replaces
        if "dns-multi" in request["args"]:  # a run that uses lego (its authenticator)
            _go_environment(request["env"])
        import logging
        import tempfile

        tempfile.tempdir = None  # use this run's TMPDIR
        root = logging.getLogger()
        for handler in root.handlers[:]:  # set up by a plugin's import; certbot sets up its own
            root.removeHandler(handler)
        code = _entry(request)(request["args"])
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


def _go_environment(env: dict) -> None:
    """Hand the run's environment to lego's Go runtime, which reads the process's environment from where
    it was at exec time (the launcher's), not from what Python has set since: without this, lego would
    never see the run's proxy. lego's bridge sets each variable it is given before picking a provider;
    the empty provider name is then refused, which is all this call expects."""
    try:
        from lego_bridge import cmd
    except ImportError:  # no lego plugin installed
        return
    cmd(json.dumps({"action": "configure", "provider": "", "credentials": env}))


def _entry(request: dict):
    """certbot's main(), or (tests) another function named "module:function" on the given path."""
    name = request.get("entry")
    if not name:
        return _certbot_main
    sys.path[:0] = request.get("path", [])
    module, _, function = name.partition(":")
    return getattr(__import__(module, fromlist=[function]), function)


def _certbot_main(args: list[str]) -> int:
    from certbot.main import main as certbot

    result = certbot(args)
    if isinstance(result, str):  # certbot returns a message instead of raising for some errors
        print(result, file=sys.stderr)
        return 1
    return result or 0


def _die_with(parent: int) -> None:
    """Linux: killed when ``parent`` dies (the parent-death signal); gone already if it has."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _kill_group(pid: int) -> None:
    # The child itself too: killed before its setsid() it has no group of its own yet.
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def send_message(sock: socket.socket, data: bytes) -> None:
    sock.sendall(struct.pack("!I", len(data)) + data)


def receive_message(sock: socket.socket) -> bytes:
    header = _exactly(sock, 4)
    return _exactly(sock, struct.unpack("!I", header)[0])


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the other end closed the socket")
        data += chunk
    return data


if __name__ == "__main__":
    sys.exit(main(sys.argv))
