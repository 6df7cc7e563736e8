"""Confine a certbot child's TCP connections to a few ports with Linux Landlock (ABI 4+, Linux 6.7+).

Every HTTP(S) request of certbot and its plugins goes through the run's egress proxy, except where a
client skips the proxy: Go's net/http (lego) never proxies ``localhost`` or a loopback address, so a
redirect from a tenant's DNS API to ``http://127.0.0.1:…`` would reach this host's services directly.
Landlock cannot tell addresses apart, only ports, so the child may open TCP connections to the proxy's
port and to DNS ports alone; the proxy judges every destination.

Standard library only: the launcher process and ``spawn``'s fresh interpreter run it before certbot,
and it starts the active DNS propagation check there (dnswait.py) when the run has one.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import sys

# The run's environment names the TCP ports the child may connect to, comma-separated.
PORTS_VARIABLE = "CERTMATE_TCP_PORTS"
# The worker's plan for the active DNS propagation check (JSON, see dnswait.py), when the run has one.
DNS_CHECK_VARIABLE = "CERTMATE_DNS_CHECK"

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_ACCESS_NET_CONNECT_TCP = 1 << 1
_RULE_NET_PORT = 2
_PR_SET_NO_NEW_PRIVS = 38
_FIRST_NET_ABI = 4


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class _NetPortAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def ports_of(value: str) -> list[int]:
    """The ports an environment value names (anything else in it is ignored)."""
    return [int(port) for port in value.split(",") if port.isascii() and port.isdigit()]


def ports_value(ports) -> str:
    """The environment value for ``ports`` (whole numbers from 1 to 65535)."""
    return ",".join(str(port) for port in sorted({int(port) for port in ports}) if 0 < port < 65536)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 without Landlock."""
    return max(0, ctypes.CDLL(None).syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION))


def confine_tcp_from_environment() -> bool:
    """Apply the restriction the environment names; True if this process is now confined.

    A kernel without Landlock's network rules leaves the process as it is, with a line in its output
    (the proxy still covers every client that uses it)."""
    value = os.environ.pop(PORTS_VARIABLE, "")
    if not value:
        return False
    if landlock_abi() < _FIRST_NET_ABI:
        print("certmate: this kernel has no Landlock network rules; TCP is not confined", file=sys.stderr)
        return False
    ports = ports_of(value)
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _RulesetAttr(handled_access_fs=0, handled_access_net=_ACCESS_NET_CONNECT_TCP)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for port in ports:
            rule = _NetPortAttr(allowed_access=_ACCESS_NET_CONNECT_TCP, port=port)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_NET_PORT, ctypes.byref(rule), 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule (port {port})")
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return True


def with_dns_check(env: dict[str, str], plan: str, *, tcp_ports: set[int]) -> dict[str, str]:
    """``env`` with the propagation check's plan, and its nameservers' ports among the TCP ports (DNS
    answers too long for UDP come over TCP) where they are among ``tcp_ports`` (53 and the platform's
    query port): a tenant's nameserver override naming another port is asked over UDP only, so that
    no tenant value widens what the child may connect to on this host (Landlock sees ports, not
    addresses, and lego's Go client skips the proxy for loopback)."""
    records = json.loads(plan).get("records", [])
    ports = {server["port"] for record in records for server in record["nameservers"]} & tcp_ports
    named = ports_of(env.get(PORTS_VARIABLE, ""))
    return {**env, DNS_CHECK_VARIABLE: plan, PORTS_VARIABLE: ports_value({*named, *ports})}


def start_dns_check() -> None:
    """In the certbot child, before certbot starts: load dnswait.py (from beside this file: both entry
    points run without the project on their path) when the run's environment carries a plan."""
    plan = os.environ.pop(DNS_CHECK_VARIABLE, "")
    if not plan:
        return
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnswait.py")
    spec = importlib.util.spec_from_file_location("certmate_dnswait", path)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up there
    spec.loader.exec_module(module)
    module.install(plan)


if __name__ == "__main__":  # spawn: `python confine.py <certbot args>`
    import orderhooks  # beside this file: sys.path[0] until the next line

    del sys.path[0]  # this folder: nothing here may shadow what certbot imports
    confine_tcp_from_environment()
    start_dns_check()
    orderhooks.install_from_environment()  # ARI's "replaces", when the run names one
    from certbot.main import main

    sys.exit(main())
