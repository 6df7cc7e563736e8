"""/api/reissues: admins ask for a bulk reissue (202 and where to follow it), everyone of the tenant follows
it (progress, a result per certificate); bad selectors are 400s naming the key; another tenant's bulk
reissue and certificates do not exist here; certificate-scoped tokens are refused."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from django_tenants.utils import tenant_context
from schemathesis.core.transport import Response

from apps.accounts.services.tokens import token_create
from apps.certificates.models import BulkReissue
from apps.certificates.services.reissue_advance import bulk_reissue_advance
from certmate.actors import Actor
from tests.api.conftest import tenant_client
from tests.certificates.reissue_support import estate, item_of, renewal_fails

pytestmark = pytest.mark.django_db
URL = "/api/reissues"


@pytest.fixture
def alpha_estate(tenant_a):
    with tenant_context(tenant_a):
        return estate()


@pytest.fixture
def conforms(tenant_a, anon_client):
    """``conforms(method, path, response)``: the answer is what the OpenAPI schema says it is (raises if not)."""
    schema = schemathesis.openapi.from_dict(anon_client(tenant_a).get("/api/schema/", {"format": "json"}).json())

    def check(method: str, path: str, response):
        request = requests.Request(method=method, url=f"http://alpha.test{response.request['PATH_INFO']}").prepare()
        headers = {name: [value] for name, value in response.headers.items()}
        answer = Response(response.status_code, headers, response.content, request, elapsed=0.0, verify=True)
        schema[path][method].validate_response(answer)
        return response.json()

    return check


def test_ask_follow_and_read_each_result(tenant_a, alpha_estate, api_client, conforms):
    admin = api_client(tenant_a, "admin")
    body = {"selector": {"ca_account": "le"}, "revoke_old": True, "reason": "keycompromise"}
    preview = conforms("POST", URL, admin.post(URL, {**body, "preview": True}, format="json"))
    assert preview == {"preview": True, "matching": 2}
    response = admin.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    asked = conforms("POST", URL, response)
    assert asked["selector"] == {"ca_account": "le"} and asked["status_url"] == f"{URL}/{asked['id']}"
    assert (asked["status"], asked["total"], asked["done"], asked["revoke_old"], asked["reason"]) == (
        "queued", 2, 0, True, "keycompromise",
    )  # fmt: skip
    assert asked["requested_by"] == admin.user.email

    with tenant_context(tenant_a):
        bulk_reissue_advance(bulk_id=asked["id"])
        renewal_fails(item_of(alpha_estate["api"]), "api.alpha.test: the CA refused the order")
        bulk_reissue_advance(bulk_id=asked["id"])
    viewer = api_client(tenant_a, "viewer")
    followed = conforms("GET", f"{URL}/{{bulk_id}}", viewer.get(asked["status_url"]))
    assert (followed["status"], followed["done"], followed["failed"]) == ("running", 1, 1)
    items = {item["certificate"]: item for item in followed["items"]}
    assert set(items) == {"api.alpha.test", "shop.alpha.test"}
    failed, renewing = items["api.alpha.test"], items["shop.alpha.test"]
    assert (failed["status"], failed["old_version"], failed["new_version"], failed["progress"]) == (
        "failed", 1, None, "",
    )  # fmt: skip
    assert failed["error"] == "renewal failed (v1 stays current, not revoked): api.alpha.test: the CA refused the order"
    assert renewing["status"] == "renewing" and renewing["renewal_job"] and renewing["error"] == ""
    assert renewing["progress"] == f"renewal job {renewing['renewal_job']} queued"
    assert renewing["certificate_id"] == alpha_estate["shop"].pk
    listed = conforms("GET", URL, viewer.get(URL))
    assert [row["id"] for row in listed] == [asked["id"]] and "items" not in listed[0]
    paged = conforms("GET", URL, viewer.get(URL, {"limit": 1}))
    assert paged["count"] == 1 and paged["results"][0]["done"] == 1


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        ({"selector": {"ca_accounts": "le"}}, "selector", "unknown key 'ca_accounts'"),
        ({"selector": {}}, "selector", "say which certificates"),
        ({"selector": {"names": "*.nowhere.test"}}, "selector", "matches no ACME server certificate"),
        ({"selector": {"names": "a/b"}}, "selector.names", "not a name glob"),
        ({"selector": {"key_type": "ec521"}}, "selector.key_type", "'ec521' is unknown"),
        ({"selector": {"ca_account": "gone"}}, "selector.ca_account", "no CA account named 'gone'"),
        ({"selector": {"ids": ["1"]}}, "selector.ids", "positive whole number"),
        ({"selector": {"ca_account": "le"}, "reason": "superseded"}, "reason", "without revoke_old"),
        ({"selector": {"ca_account": "le"}, "revoke_old": True, "reason": "bored"}, "reason", ""),
        ({"selector": "le"}, "selector", ""),
        ({}, "selector", ""),
    ],
)
def test_bad_selectors_are_400s_naming_the_key(tenant_a, alpha_estate, api_client, body, field, said):
    response = api_client(tenant_a, "admin").post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert field in error["fields"] and said in " ".join(error["fields"][field]), error
    with tenant_context(tenant_a):
        assert not BulkReissue.objects.exists()


def test_roles_tenants_and_scoped_tokens(tenant_a, tenant_b, alpha_estate, api_client, api_user):
    body = {"selector": {"ids": [alpha_estate["mail"].pk]}}
    assert api_client(tenant_a, "viewer").post(URL, body, format="json").status_code == 403
    assert api_client(tenant_a, "operator").post(URL, body, format="json").status_code == 403
    assert tenant_client(tenant_a).post(URL, body, format="json").status_code == 401
    admin_a = api_client(tenant_a, "admin")
    asked = admin_a.post(URL, body, format="json").json()

    admin_b = api_client(tenant_b, "admin")
    assert admin_b.get(f"{URL}/{asked['id']}").status_code == 404  # alpha's, not beta's
    assert admin_b.get(URL).json() == []
    refused = admin_b.post(URL, body, format="json")  # alpha's certificate id means nothing on beta
    assert refused.status_code == 400 and f"id {alpha_estate['mail'].pk} (none here)" in refused.json()["error"]
    assert admin_b.post(URL, {"selector": {"ca_account": "le"}}, format="json").status_code == 400
    stranger = tenant_client(tenant_b)
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_a.raw_token}")  # alpha's token on beta's host
    assert stranger.get(f"{URL}/{asked['id']}").status_code in (401, 403)

    user = api_user(tenant_a, "viewer")
    with tenant_context(tenant_a):
        _, raw = token_create(user=user, role="viewer", allowed_domains=["mail.alpha.test"], actor=Actor.command())
    scoped = tenant_client(tenant_a)
    scoped.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert scoped.get(URL).status_code == 403  # bulk reissues reach the whole tenant, beyond its certificates
    assert admin_a.get(f"{URL}/99999999999999999999").status_code == 404
