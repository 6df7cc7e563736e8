"""A certbot child opens TCP connections only to the ports its run names (Landlock, confine.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from apps.certificates.acme import confine
from tests.tools import missing_tool

PROBE = textwrap.dedent(
    """
    import socket, sys
    from apps.certificates.acme.confine import confine_tcp_from_environment
    print("confined" if confine_tcp_from_environment() else "not confined")
    for port in sys.argv[1:]:
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
            print(port, "connected")
        except OSError as exc:
            print(port, type(exc).__name__)
    """
)


@pytest.fixture
def two_listeners():
    sockets = []
    for _ in range(2):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sockets.append(listener)
    yield [listener.getsockname()[1] for listener in sockets]
    for listener in sockets:
        listener.close()


def _probe(ports_variable: str | None, *ports: int) -> list[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.getcwd()}
    if ports_variable is not None:
        env[confine.PORTS_VARIABLE] = ports_variable
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, ports)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_confined_child_reaches_only_the_ports_its_run_names(two_listeners):
    if confine.landlock_abi() < 4:
        missing_tool("this kernel has no Landlock network rules (Linux 6.7 or later)")
    allowed, other = two_listeners
    assert _probe(confine.ports_value([allowed]), allowed, other) == [
        "confined",
        f"{allowed} connected",
        f"{other} PermissionError",
    ]


def test_without_ports_named_nothing_is_confined(two_listeners):
    allowed, other = two_listeners
    assert _probe(None, allowed, other) == ["not confined", f"{allowed} connected", f"{other} connected"]


def test_ports_are_whole_numbers_in_range():
    assert confine.ports_value([53, "8443", 0, 70000, 53]) == "53,8443"
