"""The egress proxy handed to certbot: CONNECT and plain HTTP obey the rule, refusals are named and
remembered, allowed destinations are reached through it."""

from __future__ import annotations

import socket

import pytest
import requests

from certmate.egress import EgressProxy
from tests.egress import REFUSED_HOSTS, Listener, http_reply


@pytest.fixture
def no_allowance(settings):
    settings.CERTMATE_EGRESS_ALLOW = []


def through(proxy: EgressProxy) -> dict[str, str]:
    return {"http": f"http://127.0.0.1:{proxy.port}", "https": f"http://127.0.0.1:{proxy.port}"}


@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_refused_destinations_never_get_a_connection(no_allowance, host, scheme):
    with Listener(http_reply(body=b"internal")) as listener, EgressProxy() as proxy:
        if scheme == "https":  # CONNECT: the client reports the proxy's refusal
            with pytest.raises(requests.exceptions.ProxyError) as refused:
                requests.get(listener.url(host, scheme), proxies=through(proxy), timeout=10)
            said = str(refused.value)
        else:  # plain HTTP: the proxy's 403 is the answer
            answer = requests.get(listener.url(host, scheme), proxies=through(proxy), timeout=10)
            assert answer.status_code == 403 and b"internal" not in answer.content
            said = answer.reason
        assert "CERTMATE_EGRESS_ALLOW" in said
        assert listener.accepted == 0
        assert len(proxy.refusals) == 1
        assert "which the platform does not connect to for tenants" in proxy.refusals[0]


def test_allowed_destinations_are_reached_through_the_proxy(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["127.0.0.0/8"]
    with Listener(http_reply(body=b"ok")) as listener, EgressProxy() as proxy:
        assert requests.get(listener.url(path="/x?y=1"), proxies=through(proxy), timeout=10).content == b"ok"
        assert listener.accepted == 1
        assert proxy.refusals == []


def test_a_connect_tunnel_carries_bytes_both_ways(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["127.0.0.0/8"]
    with Listener(lambda request: b"echo:" + request) as listener, EgressProxy() as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
            client.sendall(f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
            client.sendall(b"hello")
            assert client.recv(1024) == b"echo:hello"
        assert listener.accepted == 1


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET https://127.0.0.1/ HTTP/1.1",
        b"GET / HTTP/1.1",
        b"CONNECT nohost HTTP/1.1",
        b"junk",
        b"CONNECT [::1:443 HTTP/1.1",  # a host urlsplit cannot read
        b"GET http://[zz]/ HTTP/1.1",
    ],
)
def test_anything_else_is_a_400(settings, request_line):
    with EgressProxy() as proxy, socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
        client.sendall(request_line + b"\r\n\r\n")
        assert client.recv(1024).startswith(b"HTTP/1.1 400")
