"""A token acts for whoever creates it, unless the platform allows delegation; then the token and its
private-key downloads record both people. A token's expiry is capped the same however it is given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken
from apps.accounts.services.tokens import token_create
from certmate.actors import Actor, Channel
from certmate.audit.models import AuditEvent
from tests.factories import certificate_make


def test_an_admin_cannot_make_a_token_acting_as_another_admin(tenant_a, tenant_b, api_client, api_user):
    admin = api_client(tenant_a, "admin")
    other = api_user(tenant_a, "admin")
    response = admin.post("/api/tokens", {"role": "admin", "user": other.email}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "delegation_refused"
    assert other.email in response.json()["error"]
    with tenant_context(tenant_a):
        assert not ApiToken.objects.filter(user=other).exists()
        with pytest.raises(ValidationError):
            token_create(user=other, role="admin", actor=Actor.for_user(admin.user, Channel.API))
    # For oneself, and from the platform's command line (no creator), a token is made as before.
    assert admin.post("/api/tokens", {"role": "viewer", "user": admin.user.email}).status_code == 201
    with tenant_context(tenant_a):
        assert token_create(user=other, role="viewer", actor=Actor.command())[0].created_by is None
    beta = api_client(tenant_b, "admin")
    assert beta.post("/api/tokens", {"role": "viewer", "user": other.email}).status_code == 400


def test_with_delegation_the_token_and_its_key_downloads_record_both(tenant_a, api_client, api_user, settings):
    settings.CERTMATE_API_TOKEN_DELEGATION = True
    admin = api_client(tenant_a, "admin")
    operator = api_user(tenant_a, "operator")
    created = admin.post("/api/tokens", {"role": "operator", "user": operator.email}, format="json").json()
    assert (created["user"], created["created_by"]) == (operator.email, admin.user.email)
    with tenant_context(tenant_a):
        certificate_make("www.alpha.test", versions=1)
    holder = api_client(tenant_a, "viewer")
    holder.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert holder.get("/api/certificates/www.alpha.test/download?file=privkey.pem").status_code == 200
    own = api_client(tenant_a, "operator")
    assert own.get("/api/certificates/www.alpha.test/download?file=privkey.pem").status_code == 200
    with tenant_context(tenant_a):
        delegated, direct = AuditEvent.objects.filter(action="private_key.downloaded").order_by("id")
    assert (delegated.actor_name, delegated.changes["token_created_by"]) == (operator.email, admin.user.email)
    assert (direct.actor_name, direct.changes["token_created_by"]) == (own.user.email, "")


@pytest.mark.parametrize("expires_at", ["9999-12-31T00:00:00Z", "2999-01-01T00:00:00Z"])
def test_expires_at_is_capped_like_expires_days(tenant_a, api_client, expires_at):
    response = api_client(tenant_a, "admin").post("/api/tokens", {"role": "viewer", "expires_at": expires_at})
    assert response.status_code == 400 and response.json()["code"] == "expires_too_late"
    late = (timezone.now() + timedelta(days=3651)).isoformat()
    assert api_client(tenant_a, "admin").post("/api/tokens", {"role": "viewer", "expires_at": late}).status_code == 400
    fine = (timezone.now() + timedelta(days=3649)).isoformat()
    assert api_client(tenant_a, "admin").post("/api/tokens", {"role": "viewer", "expires_at": fine}).status_code == 201
