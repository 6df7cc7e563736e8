"""The ID token checks of alpha's sign-in, on tokens its real provider (and beta's) issued: only an
RS256 token from alpha's provider's keys, for alpha's client, from alpha's issuer, unexpired, with the
nonce of the sign-in, is accepted."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from django_tenants.utils import tenant_context

from apps.accounts.services.sso import SsoRefused
from apps.accounts.sso.backends import TenantOIDCBackend
from tests.accounts.conftest import ALPHA_CLIENT, BETA_CLIENT, OTHER_CLIENT
from tests.accounts.sso_browser import Browser
from tests.conftest import TENANT_A, TENANT_B

# Real OpenID Connect providers run as child processes (tests/oidc_provider).
pytestmark = pytest.mark.tools


def provider_id_token(idp, client: dict, username: str, *, host: str, nonce: str) -> str:
    """An ID token the provider issues to ``client`` for ``username`` (code flow with PKCE)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"http://{host}/sso/callback/"
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid email profile groups",
        "state": secrets.token_urlsafe(8),
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    callback = Browser(host, idp.ca_bundle).at_provider(f"{idp.issuer}/authorize/?{urlencode(query)}", username)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    exchange["code_verifier"] = verifier
    answer = requests.post(
        f"{idp.issuer}/token/",
        data=exchange,
        auth=(client["client_id"], client["client_secret"]),
        verify=str(idp.ca_bundle),
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["id_token"]


def alpha_backend(tenant) -> TenantOIDCBackend:
    backend = TenantOIDCBackend()
    assert backend.use_tenant_provider()
    return backend


def signed_by(idp, claims: dict, token_for_kid: str) -> str:
    """A token signed with the provider's own key (the test generated it), under the provider's kid."""
    kid = jwt.get_unverified_header(token_for_kid)["kid"]
    return jwt.encode(claims, idp.signing_key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def alpha_token(sso_tenants, idp_alpha):
    nonce = secrets.token_urlsafe(16)
    return provider_id_token(idp_alpha, ALPHA_CLIENT, "ann", host=TENANT_A["domain"], nonce=nonce), nonce


def test_alpha_token_is_accepted(sso_tenants, alpha_token):
    token, nonce = alpha_token
    with tenant_context(sso_tenants[0]):
        claims = alpha_backend(sso_tenants[0]).verify_token(token, nonce=nonce)
    assert claims["email"] == "ann@alpha.example" and "certmate-admins" in claims["groups"]


def test_token_for_another_client_of_the_same_provider_is_refused(sso_tenants, idp_alpha):
    nonce = secrets.token_urlsafe(16)
    token = provider_id_token(idp_alpha, OTHER_CLIENT, "ann", host=TENANT_A["domain"], nonce=nonce)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == OTHER_CLIENT["client_id"]
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="issued to another client"):
        alpha_backend(sso_tenants[0]).verify_token(token, nonce=nonce)


def test_token_from_beta_provider_is_refused_by_alpha(sso_tenants, idp_beta):
    nonce = secrets.token_urlsafe(16)
    token = provider_id_token(idp_beta, BETA_CLIENT, "bea", host=TENANT_B["domain"], nonce=nonce)
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="not signed by a key of this tenant"):
        alpha_backend(sso_tenants[0]).verify_token(token, nonce=nonce)
    with tenant_context(sso_tenants[1]):
        assert alpha_backend(sso_tenants[1]).verify_token(token, nonce=nonce)["email"] == "bea@beta.example"


def test_tampered_token_is_refused(sso_tenants, alpha_token):
    token, nonce = alpha_token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "someone-else@alpha.example"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="signature does not verify"):
        alpha_backend(sso_tenants[0]).verify_token(f"{header}.{forged}.{signature}", nonce=nonce)


def test_expired_token_is_refused(sso_tenants, idp_alpha, alpha_token):
    token, nonce = alpha_token
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="has expired"):
        alpha_backend(sso_tenants[0]).verify_token(signed_by(idp_alpha, claims, token), nonce=nonce)


def test_token_naming_another_issuer_is_refused(sso_tenants, idp_alpha, idp_beta, alpha_token):
    token, nonce = alpha_token
    claims = {**jwt.decode(token, options={"verify_signature": False}), "iss": idp_beta.issuer}
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="another issuer"):
        alpha_backend(sso_tenants[0]).verify_token(signed_by(idp_alpha, claims, token), nonce=nonce)


def test_token_of_another_sign_in_is_refused(sso_tenants, alpha_token):
    token, _nonce = alpha_token
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused, match="belongs to another sign-in"):
        alpha_backend(sso_tenants[0]).verify_token(token, nonce="the nonce of another sign-in")


def test_token_signed_with_the_client_secret_is_refused(sso_tenants, alpha_token):
    """The algorithm-confusion attack: HS256 keyed with the (shared) client secret."""
    token, nonce = alpha_token
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, ALPHA_CLIENT["client_secret"], algorithm="HS256")
    with tenant_context(sso_tenants[0]), pytest.raises(SsoRefused):
        alpha_backend(sso_tenants[0]).verify_token(forged, nonce=nonce)
