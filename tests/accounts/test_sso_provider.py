"""What a tenant's identity provider answers is untrusted: a provider trickling its answer holds a web
thread for the platform's SSO timeout in all, not for as long as it keeps trickling (any anonymous visitor
can start a sign-in), and a malformed discovery document is a refusal, never a 500."""

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


@pytest.mark.parametrize("endpoint", ["https://[::1", "https://[idp]/authorize", "https://idp.example:99999/"])
def test_a_discovery_document_with_a_broken_url_is_a_refusal_not_a_500(db, monkeypatch, endpoint):
    document = {
        "issuer": "https://idp.example",
        "authorization_endpoint": endpoint,
        "token_endpoint": "https://idp.example/token",
        "jwks_uri": "https://idp.example/jwks",
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    monkeypatch.setattr("apps.accounts.sso.provider.fetch_json", lambda *args, **kwargs: document)
    config = SsoSettings(enabled=True, issuer="https://idp.example", client_id="c", client_secret="s")
    with pytest.raises(SsoRefused, match="authorization_endpoint is missing or not an https:// URL"):
        provider_metadata(config)
