"""A tenant's identity provider that answers a trickle at a time holds a web thread for the platform's
SSO timeout in all, not for as long as it keeps trickling (any anonymous visitor can start a sign-in)."""

from __future__ import annotations

import time

import pytest

from apps.accounts.models import SsoSettings
from apps.accounts.services.sso import SsoRefused
from apps.accounts.sso.provider import provider_metadata
from tests.egress import Trickle


@pytest.fixture
def trickle():
    server = Trickle(b'{"issuer": "https://slow.test"}', interval=0.2)  # about 30 s in all
    yield server
    server.close()


def test_a_trickling_provider_is_cut_at_the_sso_timeout(db, settings, trickle):
    settings.CERTMATE_SSO_TIMEOUT = 1
    # Plain HTTP so the trickle reaches the HTTP parser (an issuer must be https://, which only adds a
    # handshake that can trickle the same way).
    config = SsoSettings(enabled=True, issuer=f"http://127.0.0.1:{trickle.port}", client_id="c", client_secret="s")
    started = time.monotonic()
    with pytest.raises(SsoRefused, match="could not be reached"):
        provider_metadata(config)
    assert time.monotonic() - started < 3
