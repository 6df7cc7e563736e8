"""Authentication backends: the tenant's identity provider, and passwords unless the tenant is SSO-only."""

from __future__ import annotations

from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from requests.auth import HTTPBasicAuth

from apps.accounts.selectors import sso_settings_active
from apps.accounts.services.sso import SsoRefused, sso_actor, sso_user_sign_in
from apps.accounts.sso.provider import SIGNING_ALGORITHM, fetch_json, provider_metadata

# Clocks of certmate and the provider may differ by this much (seconds) for exp, iat and nbf.
CLOCK_LEEWAY = 60
CALLBACK_URL_NAME = "sso-callback"
LIBRARY_SETTINGS = {
    "OIDC_USE_NONCE": True,
    "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_STORE_ACCESS_TOKEN": False,
    "OIDC_STORE_ID_TOKEN": False,
}


class PasswordBackend(ModelBackend):
    """Django's password check, except for the users of a tenant whose sign-in is SSO only (the
    platform's own operators, on the public host, always sign in with their passwords)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        config = sso_settings_active()
        if config is not None and config.sso_only:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class TenantOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow with the provider, client and role mapping of the request's
    tenant. The library reads its settings once, at construction; here they are set per sign-in from
    the tenant's row, and every connection goes through the egress rule (provider.fetch_json)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()
        self.config = None
        self.metadata = None

    def get_settings(self, attr: str, *args: Any) -> Any:
        # Never Django's settings: what the library still reads is fixed here, the rest is per tenant.
        if attr in LIBRARY_SETTINGS:
            return LIBRARY_SETTINGS[attr]
        if args:
            return args[0]
        raise AttributeError(attr)

    def authenticate(self, request, nonce: str | None = None, code_verifier: str | None = None, **kwargs: Any):
        # Only the callback view passes a nonce: a password form's authenticate() never reaches the provider.
        if request is None or nonce is None:
            return None
        if not self.use_tenant_provider():
            return None
        try:
            return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except SuspiciousOperation as exc:
            # The library's own checks (its state and nonce handling): name the check.
            raise SsoRefused(f"the identity provider's answer failed verification ({exc})") from None
        except (KeyError, TypeError, ValueError, jwt.PyJWTError):
            raise SsoRefused("the identity provider's answer could not be read") from None

    def use_tenant_provider(self) -> bool:
        """Point the library at the current tenant's provider and client; False when it has none."""
        self.config = sso_settings_active()
        if self.config is None:
            return False
        self.metadata = provider_metadata(self.config)
        self.OIDC_OP_TOKEN_ENDPOINT = self.metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = self.metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = self.metadata.jwks_uri
        self.OIDC_RP_CLIENT_ID = self.config.client_id
        self.OIDC_RP_CLIENT_SECRET = self.config.client_secret
        self.OIDC_RP_SIGN_ALGO = SIGNING_ALGORITHM
        self.OIDC_RP_IDP_SIGN_KEY = None
        return True

    # --- connections: bounded, through the egress rule, errors without the provider's body ---------

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        auth = None
        if self.metadata.token_endpoint_auth == "client_secret_basic":  # noqa: S105 - a method's name
            auth = HTTPBasicAuth(payload.pop("client_id"), payload.pop("client_secret"))
        token = fetch_json("POST", self.OIDC_OP_TOKEN_ENDPOINT, what="sign-in code", data=payload, auth=auth)
        if not isinstance(token.get("id_token"), str):
            raise SsoRefused("the identity provider sent no ID token (is the openid scope allowed for this client?)")
        return token

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = fetch_json("GET", self.OIDC_OP_JWKS_ENDPOINT, what="signing keys").get("keys")
        for jwk in keys if isinstance(keys, list) else []:
            if (
                isinstance(jwk, dict)
                and jwk.get("kty") == "RSA"
                and jwk.get("kid") == kid
                and jwk.get("alg", SIGNING_ALGORITHM) == SIGNING_ALGORITHM
                and jwk.get("use", "sig") == "sig"
            ):
                return jwt.PyJWK(jwk, algorithm=SIGNING_ALGORITHM)
        raise SsoRefused("the ID token is not signed by a key of this tenant's identity provider")

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint's (same subject only)."""
        if not self.OIDC_OP_USER_ENDPOINT or not isinstance(access_token, str):
            return payload
        userinfo = fetch_json(
            "GET", self.OIDC_OP_USER_ENDPOINT, what="user info", headers={"Authorization": f"Bearer {access_token}"}
        )
        if userinfo.get("sub") != payload.get("sub"):
            raise SsoRefused("the identity provider's user info is about another user than its ID token")
        return {**payload, **userinfo}

    # --- the ID token: RS256 from the provider's JWKS, for this client, from this issuer, unexpired --

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return super().verify_token(token, **kwargs)
        except SuspiciousOperation:  # the library's nonce comparison; the other checks are below
            raise SsoRefused("the ID token belongs to another sign-in (its nonce differs)") from None

    def _verify_jws(self, payload: str, key: jwt.PyJWK) -> dict[str, Any]:
        if jwt.get_unverified_header(payload).get("alg") != SIGNING_ALGORITHM:
            raise SsoRefused(f"the ID token is not signed with {SIGNING_ALGORITHM}")
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[SIGNING_ALGORITHM],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.config.issuer,
                leeway=CLOCK_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SsoRefused("the ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise SsoRefused("the ID token was issued to another client than this tenant's") from None
        except jwt.InvalidIssuerError:
            raise SsoRefused("the ID token comes from another issuer than this tenant's") from None
        except jwt.InvalidSignatureError:
            raise SsoRefused("the ID token's signature does not verify") from None
        except jwt.PyJWTError:
            raise SsoRefused("the ID token is not valid") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SsoRefused("the ID token was issued to another client than this tenant's")
        return claims

    # --- the user: one write path (services.sso), refused when its claims map to no role -----------

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):
        claims = self.get_userinfo(access_token, id_token, payload)
        return sso_user_sign_in(
            config=self.config, claims=claims, actor=sso_actor(config=self.config, request=self.request)
        )
