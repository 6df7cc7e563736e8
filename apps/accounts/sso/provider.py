"""Talking to a tenant's identity provider: every connection through the platform's egress rule,
answers bounded, and errors that name the host and a status but never repeat what the provider said."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

from apps.accounts.models import SsoSettings
from apps.accounts.services.sso import SsoRefused
from certmate import egress

MAX_ANSWER_BYTES = 512 * 1024
MAX_URL_LENGTH = 1000
SIGNING_ALGORITHM = "RS256"


@dataclass(frozen=True)
class ProviderMetadata:
    """What certmate uses of the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    token_endpoint_auth: str  # client_secret_basic or client_secret_post


def fetch_json(method: str, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
    """A JSON object from the provider, or SsoRefused saying what failed where."""
    host = urlsplit(url).hostname or "?"
    try:
        # The timeout is for the whole exchange: any anonymous visitor can start a sign-in, and a provider
        # trickling its answer must not hold a web thread for longer.
        with egress.deadline(settings.CERTMATE_SSO_TIMEOUT), egress.session() as http:
            response = http.request(
                method,
                url,
                timeout=settings.CERTMATE_SSO_TIMEOUT,
                verify=settings.CERTMATE_SSO_CA_BUNDLE or True,
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
            with response:
                body = _read_bounded(response)
    except (egress.EgressRefused, requests.RequestException) as exc:
        refused = egress.refusal_in(exc)  # requests wraps a refusal at connect time
        if refused is not None:
            raise SsoRefused(f"{what}: {refused}") from None
        reason = type(exc).__name__
        raise SsoRefused(f"{what}: the identity provider at {host} could not be reached ({reason})") from None
    if response.status_code != 200:
        raise SsoRefused(f"{what}: the identity provider at {host} answered HTTP {response.status_code}")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SsoRefused(f"{what}: the identity provider at {host} did not answer a JSON object")
    return data


def _read_bounded(response: requests.Response) -> bytes:
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise requests.exceptions.ContentDecodingError("answer too large")
    return bytes(body)


def _endpoint(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    try:  # what the provider says is untrusted: a bad host or port is its error, never a 500
        parts = urlsplit(value) if isinstance(value, str) and len(value) <= MAX_URL_LENGTH else None
        _ = parts and parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.username or parts.fragment:
        raise SsoRefused(f"discovery: the identity provider's {name} is missing or not an https:// URL")
    return value


def _discover(config: SsoSettings) -> ProviderMetadata:
    data = fetch_json("GET", config.issuer.rstrip("/") + "/.well-known/openid-configuration", what="discovery")
    # OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
    if data.get("issuer") != config.issuer:
        raise SsoRefused("discovery: the identity provider names another issuer than the one configured")
    algorithms = data.get("id_token_signing_alg_values_supported")
    if not isinstance(algorithms, list) or SIGNING_ALGORITHM not in algorithms:
        raise SsoRefused(f"discovery: the identity provider does not sign ID tokens with {SIGNING_ALGORITHM}")
    methods = data.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    methods = methods if isinstance(methods, list) else []
    auth = next((m for m in ("client_secret_basic", "client_secret_post") if m in methods), None)
    if auth is None:
        raise SsoRefused("discovery: the identity provider accepts neither client_secret_basic nor client_secret_post")
    return ProviderMetadata(
        issuer=config.issuer,
        authorization_endpoint=_endpoint(data, "authorization_endpoint"),
        token_endpoint=_endpoint(data, "token_endpoint"),
        jwks_uri=_endpoint(data, "jwks_uri"),
        userinfo_endpoint=_endpoint(data, "userinfo_endpoint", required=False),
        token_endpoint_auth=auth,
    )


def provider_metadata(config: SsoSettings) -> ProviderMetadata:
    """The provider's endpoints, from its discovery document (cached per tenant and issuer)."""
    key = "sso-discovery:" + hashlib.sha256(config.issuer.encode()).hexdigest()
    cached = cache.get(key)  # the cache's key function adds the tenant's schema
    if isinstance(cached, dict):
        return ProviderMetadata(**cached)
    metadata = _discover(config)
    cache.set(key, asdict(metadata), settings.CERTMATE_SSO_DISCOVERY_CACHE_SECONDS)
    return metadata
