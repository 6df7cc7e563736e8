"""Connections made for tenants: resolve once, check every address, connect to the checked address.

`guarded()` turns the rule on for every urllib3 connection made in the current context (requests, hvac,
botocore, azure-core, infisicalsdk all connect through urllib3). The hook is installed once, on import,
at urllib3's single choke point (`urllib3.util.connection.create_connection`, which every
`HTTPConnection._new_conn` calls); outside `guarded()` it is a pass-through, so the platform's own
connections (database, broker, cache) are untouched.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from urllib.parse import SplitResult, urlsplit

import requests
import urllib3.poolmanager
import urllib3.util.connection as urllib3_connection
from django.conf import settings

from .rules import Allowance, EgressRefused, check_address_with, is_host_name, normalize_host, parse_allow

_ACTIVE: ContextVar[bool] = ContextVar("certmate_egress_guarded", default=False)
# (when, [(timer, descriptor)]) of the innermost deadline() block
_DEADLINE: ContextVar[tuple[float, list] | None] = ContextVar("certmate_egress_deadline", default=None)
_NO_REDIRECTS: ContextVar[bool] = ContextVar("certmate_egress_no_redirects", default=False)
_SPECIAL_NAMES = ("localhost", ".localhost")
_LOOPBACK = ipaddress.ip_address("127.0.0.1")


def allowance() -> Allowance:
    return parse_allow(tuple(getattr(settings, "CERTMATE_EGRESS_ALLOW", ()) or ()))


def check_address(ip, *, host: str = "") -> None:
    """Raise EgressRefused unless the platform may connect to ``ip`` for a tenant."""
    check_address_with(ip, allowance(), host=host)


def _literal(host: str):
    try:
        return ipaddress.ip_address(normalize_host(host).split("%", 1)[0])
    except ValueError:
        return None


def check_host(host: str) -> None:
    """Validation-time check of a host without DNS: a literal address is checked, a name must be a name."""
    rules = allowance()
    name = normalize_host(host)
    if rules.allows_host(name):
        return
    literal = _literal(name)
    if literal is not None:
        check_address_with(literal, rules, host=name)
        return
    if not is_host_name(name):
        raise EgressRefused(f"{name[:64]!r} is not a valid host name")
    if name == _SPECIAL_NAMES[0] or name.endswith(_SPECIAL_NAMES[1]):
        check_address_with(_LOOPBACK, rules, host=name)  # RFC 6761: always this machine


def check_url(url: str, *, schemes: tuple[str, ...] = ("https",), query: bool = True) -> SplitResult:
    """Validation-time check of a URL: format, scheme, host and port (literal addresses without DNS).

    A #fragment is always refused and a ?query with ``query=False``: appended to a base URL by an SDK, either
    would turn the path the SDK chose into data, letting the URL pick any path on the server."""
    if not isinstance(url, str) or not url or len(url) > 2048 or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise EgressRefused("not a valid URL (no spaces or control characters, at most 2048 characters)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EgressRefused("not a valid URL (bad host or port)") from None
    if parts.scheme.lower() not in schemes:
        raise EgressRefused(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise EgressRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise EgressRefused("the URL must not carry a user name or password")
    if parts.fragment or url.endswith("#"):
        raise EgressRefused("the URL must not have a #fragment")
    if not query and (parts.query or "?" in url):
        raise EgressRefused("the URL must not have a ?query")
    if port is not None and not 0 < port < 65536:
        raise EgressRefused("the URL's port must be between 1 and 65535")
    check_host(parts.hostname)
    return parts


def resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """Resolve ``host`` once and check every address; (family, sockaddr) pairs to connect to."""
    rules = allowance()
    name = normalize_host(host)
    literal = _literal(name)
    try:
        infos = socket.getaddrinfo(
            str(literal) if literal is not None else name,
            port,
            type=socket.SOCK_STREAM,
            flags=socket.AI_NUMERICHOST if literal is not None else 0,
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"{name}: the name does not resolve ({getattr(exc, 'strerror', None) or 'bad name'})") from None
    if rules.allows_host(name):
        return [(family, sockaddr) for family, _, _, _, sockaddr in infos]
    checked = []
    for family, _, _, _, sockaddr in infos:
        # One refused address refuses the name: a round-robin of public and private answers is no way in.
        check_address_with(sockaddr[0], rules, host=name)
        checked.append((family, sockaddr))
    if not checked:
        raise OSError(f"{name}: the name has no address")
    return checked


def connect(address: tuple[str, int], timeout=None, source_address=None, socket_options=None) -> socket.socket:
    """Open a TCP connection to a checked address of ``address`` (host, port), like socket.create_connection."""
    host, port = address
    error: OSError | None = None
    for family, sockaddr in resolve(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not None and timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            _cut_at_deadline(sock)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"{host}: could not connect")


_original_create_connection = urllib3_connection.create_connection


def _create_connection(address, timeout=urllib3_connection._DEFAULT_TIMEOUT, source_address=None, socket_options=None):
    if not _ACTIVE.get():
        return _original_create_connection(address, timeout, source_address, socket_options)
    if timeout is urllib3_connection._DEFAULT_TIMEOUT:
        timeout = None
    return connect(address, timeout, source_address, socket_options)


_original_proxy_connection = urllib3.poolmanager.ProxyManager.connection_from_host


def _proxy_connection_from_host(self, host, port=None, scheme="http", pool_kwargs=None):
    """Every proxied urllib3 request passes here (requests, botocore and azure-core build a ProxyManager
    from HTTPS_PROXY/HTTP_PROXY). Through a proxy, the proxy would resolve and reach the tenant's host and
    the rule would only ever see the proxy's address: inside guarded(), no proxy is used."""
    if _ACTIVE.get():
        raise EgressRefused(
            f"{normalize_host(str(host))[:64]}: the process environment names a proxy (HTTPS_PROXY or HTTP_PROXY), "
            "which connections for tenants never go through: unset it for certmate's processes"
        )
    return _original_proxy_connection(self, host, port, scheme, pool_kwargs)


_original_redirect_target = requests.Session.get_redirect_target


def _redirect_target(self, response):
    """Where requests would follow ``response`` to; nowhere inside redirects_refused(): the 3xx is the answer."""
    if _NO_REDIRECTS.get():
        return None
    return _original_redirect_target(self, response)


def _install() -> None:
    if getattr(urllib3_connection.create_connection, "__certmate_egress__", False):
        return
    _create_connection.__certmate_egress__ = True  # type: ignore[attr-defined]
    urllib3_connection.create_connection = _create_connection
    urllib3.poolmanager.ProxyManager.connection_from_host = _proxy_connection_from_host
    requests.Session.get_redirect_target = _redirect_target


_install()


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Within this block, every urllib3 connection made in this thread obeys the egress rule."""
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def redirects_refused() -> Iterator[None]:
    """Within this block, no requests session in this thread follows a redirect, whatever its caller
    asked (an SDK or plugin that passes allow_redirects=True): the 3xx answer is returned as it came."""
    token = _NO_REDIRECTS.set(True)
    try:
        yield
    finally:
        _NO_REDIRECTS.reset(token)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Within this block, every connection made under the rule is cut ``seconds`` from now at the latest.
    A socket timeout bounds each wait for a byte, so a server trickling its answer a byte at a time holds
    the caller for as long as it likes; this bounds the whole exchange (for callers holding a web thread)."""
    watches: list[tuple[threading.Timer, socket.socket]] = []
    token = _DEADLINE.set((time.monotonic() + seconds, watches))
    try:
        yield
    finally:
        _DEADLINE.reset(token)
        for timer, watch in watches:  # nobody waits on these connections any more
            timer.cancel()
            watch.close()


def _cut_at_deadline(sock: socket.socket) -> None:
    current = _DEADLINE.get()
    if current is None:
        return
    end, watches = current
    # A duplicate of the descriptor: TLS wrapping detaches ``sock``, and shutdown() acts on the connection
    # behind every descriptor of it, waking whatever read or write blocks on it.
    watch = sock.dup()

    def cut() -> None:
        with contextlib.suppress(OSError):
            watch.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, end - time.monotonic()), cut)
    timer.daemon = True
    timer.start()
    watches.append((timer, watch))


@contextlib.contextmanager
def platform_identity() -> Iterator[None]:
    """Inside a guarded block, the platform's own connections to fetch its own cloud identity (the instance
    metadata service, a container credentials endpoint) when the platform lends it to tenants
    (CERTMATE_STORAGE_PLATFORM_CREDENTIALS). Never around anything a tenant chose: the code inside must
    connect only where the platform's own environment says."""
    token = _ACTIVE.set(False)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class GuardedSession(requests.Session):
    """A requests session whose every connection, redirects included, obeys the egress rule."""

    def __init__(self) -> None:
        super().__init__()
        # A proxy from the environment would make the proxy, not the rule, choose where we connect.
        self.trust_env = False

    def send(self, request, **kwargs):
        with guarded():
            return super().send(request, **kwargs)


def session() -> requests.Session:
    return GuardedSession()


def refusal_in(exc: BaseException | None) -> EgressRefused | None:
    """The EgressRefused behind ``exc`` (SDKs may wrap it), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, EgressRefused):
            return exc
        seen.add(id(exc))
        exc = (
            exc.__cause__
            or exc.__context__
            or next((arg for arg in getattr(exc, "args", ()) if isinstance(arg, BaseException)), None)
        )
    return None
