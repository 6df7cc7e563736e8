"""Single sign-on fixtures: two real OpenID Connect providers (alpha's and beta's) for the session,
and each tenant configured with its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from apps.accounts.models import Tenant
from apps.accounts.services.sso import sso_settings_update
from certmate.actors import Actor
from tests.oidc_provider.server import OidcProvider
from tests.tools import missing_tool

IDP_PASSWORD = "idp-password-0123"
ALPHA_CLIENT = {"client_id": "certmate-alpha", "client_secret": "alpha-client-secret-marker-7f3a-0001"}
OTHER_CLIENT = {"client_id": "another-app", "client_secret": "another-app-secret-marker-91c2"}
BETA_CLIENT = {"client_id": "certmate-beta", "client_secret": "beta-client-secret-marker-c55e"}
# Alpha's provider: an admin, an operator, and a colleague in no group certmate knows.
ALPHA_USERS = {
    "ann": {"email": "ann@alpha.example", "groups": ["certmate-admins", "staff"]},
    "otto": {"email": "otto@alpha.example", "groups": ["certmate-ops"]},
    "nora": {"email": "nora@alpha.example", "groups": ["sales"]},
}
BETA_USERS = {"bea": {"email": "bea@beta.example", "groups": ["admins"]}}
ALPHA_ROLES = {"admin": ["certmate-admins"], "operator": ["certmate-ops"], "viewer": []}
BETA_ROLES = {"admin": ["admins"], "operator": [], "viewer": []}


def _users(spec: dict) -> list[dict]:
    return [{"username": name, "password": IDP_PASSWORD, **user} for name, user in spec.items()]


def _provider(users: dict, clients: list[dict]) -> Iterator[OidcProvider]:
    reason = OidcProvider.missing_reason()
    if reason:
        missing_tool(reason)
    with OidcProvider(users=_users(users), clients=clients) as idp:
        yield idp


@pytest.fixture(scope="session")
def idp_alpha() -> Iterator[OidcProvider]:
    """Alpha's provider; "another-app" is a second client of it, registered with alpha's redirect URI."""
    redirect = {"redirect_uris": ["http://alpha.test/sso/callback/"]}
    yield from _provider(ALPHA_USERS, [{**ALPHA_CLIENT, **redirect}, {**OTHER_CLIENT, **redirect}])


@pytest.fixture(scope="session")
def idp_beta() -> Iterator[OidcProvider]:
    yield from _provider(BETA_USERS, [{**BETA_CLIENT, "redirect_uris": ["http://beta.test/sso/callback/"]}])


@pytest.fixture
def sso_platform(settings, tmp_path, idp_alpha, idp_beta):
    """The platform as the tests run it (the test settings let the egress rule allow loopback): the
    providers' test CAs trusted, discovery documents not carried over from another test."""
    bundle = tmp_path / "idp-cas.pem"
    bundle.write_bytes(idp_alpha.ca_bundle.read_bytes() + idp_beta.ca_bundle.read_bytes())
    settings.CERTMATE_SSO_CA_BUNDLE = str(bundle)
    cache.clear()
    yield settings
    cache.clear()


def sso_configure(tenant: Tenant, idp: OidcProvider, client: dict, roles: dict, *, name: str, **options):
    with tenant_context(tenant):
        values = {
            "enabled": True,
            "name": name,
            "issuer": options.get("issuer", idp.issuer),
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scopes": "openid email profile groups",
            "role_claim": "groups",
            "role_values": roles,
            "sso_only": options.get("sso_only", False),
        }
        return sso_settings_update(values=values, actor=Actor.command())


@pytest.fixture
def sso_tenants(db, sso_platform, tenant_a, tenant_b, idp_alpha, idp_beta):
    """Alpha signs in through its provider, beta through its own."""
    sso_configure(tenant_a, idp_alpha, ALPHA_CLIENT, ALPHA_ROLES, name="Alpha Login")
    sso_configure(tenant_b, idp_beta, BETA_CLIENT, BETA_ROLES, name="Beta Login")
    return tenant_a, tenant_b
