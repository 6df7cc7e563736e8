"""Connections under the egress rule: refused before connecting, redirects included; others untouched."""

from __future__ import annotations

import pytest
import requests

from certmate.egress import EgressRefused, guarded, session
from tests.egress import REFUSED_HOSTS, Listener, http_reply


@pytest.fixture
def no_allowance(settings):
    settings.CERTMATE_EGRESS_ALLOW = []


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_guarded_session_never_reaches_a_refused_host(no_allowance, host):
    with Listener(http_reply(body=b"internal secret")) as listener:
        with pytest.raises(EgressRefused, match="CERTMATE_EGRESS_ALLOW"):
            session().get(listener.url(host), timeout=5)
        assert listener.accepted == 0


def test_sdks_connecting_through_urllib3_are_guarded_only_inside_the_block(no_allowance):
    with Listener(http_reply(body=b"ok")) as listener:
        with guarded(), pytest.raises(EgressRefused):
            requests.get(listener.url(), timeout=5)
        assert listener.accepted == 0
        # The platform's own connections stay as they were.
        assert requests.get(listener.url(), timeout=5).content == b"ok"
        assert listener.accepted == 1


def test_a_redirect_to_a_refused_address_fails_at_connect(settings):
    # The first hop is allowed by name; it redirects to a literal loopback address, which is not.
    settings.CERTMATE_EGRESS_ALLOW = ["localhost"]
    with Listener(http_reply(body=b"internal secret")) as inner:
        hop = http_reply("302 Found", headers={"Location": inner.url("127.0.0.1", path="/secret")})
        with Listener(hop) as outer:
            with pytest.raises(EgressRefused, match=r"127\.0\.0\.1 is a loopback address"):
                session().get(outer.url("localhost"), timeout=5)
            assert outer.accepted == 1
        assert inner.accepted == 0


def test_allowed_loopback_connects(settings):
    settings.CERTMATE_EGRESS_ALLOW = ["127.0.0.0/8"]
    with Listener(http_reply(body=b"ok")) as listener:
        assert session().get(listener.url(), timeout=5).content == b"ok"
        assert listener.accepted == 1
