"""Storage, settings and the audit log in the portal: the storage target tested before it is used with
its credentials never shown, "test connection", the tenant's defaults (everyone reads, admins change,
errors at the field), and the audit log paged and filtered by actor, action and date."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import TenantSettings
from apps.storage.services import storage_config_active
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record
from tests.factories import TEST_ACTOR
from tests.portal.test_accounts_access import LISTS
from tests.portal.test_pages import parse

VAULT_TOKEN = "hvs.portal-secret-token-alpha"


@pytest.fixture
def admin(tenant_a, signed_in, settings, tmp_path):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    return signed_in(tenant_a, "admin")


def test_the_storage_page_shows_the_active_target_and_tests_it(tenant_a, admin):
    page = admin.get("/storage/").content.decode()
    assert "Local filesystem" in page and "Test connection" in page
    tested = admin.post("/storage/test/", follow=True).content.decode()
    assert "The connection works" in tested and "worked" in tested
    with tenant_context(tenant_a):
        assert AuditEvent.objects.get(action="storage_config.tested").channel == "portal"


def test_an_unreachable_target_is_refused_on_the_form_and_its_credentials_never_shown(tenant_a, admin):
    form = {"backend": "hashicorp_vault", "settings": json.dumps({"url": "http://127.0.0.1:9", "timeout": 2}),
            "credentials_json": json.dumps({"token": VAULT_TOKEN})}  # fmt: skip
    response = admin.post("/storage/", form)
    page = response.content.decode()
    assert response.status_code == 200 and "connection test failed" in page and "127.0.0.1:9" in page
    assert VAULT_TOKEN not in page
    with tenant_context(tenant_a):
        assert storage_config_active().backend == "local_filesystem"
    for path in LISTS:
        assert VAULT_TOKEN not in admin.get(path).content.decode(), path


def test_settings_viewers_read_admins_change_with_errors_at_the_field(tenant_a, admin, signed_in):
    viewer_page = signed_in(tenant_a, "viewer").get("/settings/").content.decode()
    assert "Renew before expiry" in viewer_page and 'name="renewal_threshold_days"' not in viewer_page
    form = admin.get("/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(renewal_threshold_days="45", contact_email="pki@alpha.example")
    data["auto_renew_default"] = "on" if data.pop("auto_renew_default", False) else ""
    response = admin.post("/settings/", data)
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(tenant_a):
        assert TenantSettings.load().renewal_threshold_days == 45
        assert AuditEvent.objects.get(action="tenant_settings.updated").channel == "portal"
    bad = admin.post("/settings/", {**data, "renewal_threshold_days": "soon", "contact_email": "not-an-address"})
    assert bad.status_code == 200
    assert bad.context["form"].errors.keys() >= {"renewal_threshold_days", "contact_email"}
    assert "45 days" in signed_in(tenant_a, "viewer").get("/settings/").content.decode()


def _events(tenant, count: int, **fields):
    with tenant_context(tenant):
        for n in range(count):
            audit_record(actor=TEST_ACTOR, object_type="certificate", object_id=n, **fields)


def test_the_audit_log_is_paged_newest_first(tenant_a, signed_in):
    _events(tenant_a, 120, action="certificate.renewed")
    operator = signed_in(tenant_a, "operator")
    first = operator.get("/audit/")
    assert first.status_code == 200 and len(first.context["page"].object_list) == 50
    ids = [event.pk for event in first.context["page"].object_list]
    assert ids == sorted(ids, reverse=True)
    page = first.content.decode()
    assert 'href="?page=2" rel="next"' in page
    third = operator.get("/audit/?page=3").context["page"]
    assert 0 < len(third.object_list) <= 50 and not third.has_next()


def test_the_audit_log_filters_by_actor_action_and_date(tenant_a, tenant_b, signed_in):
    _events(tenant_a, 3, action="certificate.renewed")
    _events(tenant_a, 2, action="certificate.revoked")
    _events(tenant_b, 4, action="certificate.renewed")
    admin = signed_in(tenant_a, "admin")
    renewed = admin.get("/audit/?action=certificate.renewed").context["page"]
    assert renewed.paginator.count == 3  # tenant B's events are B's alone
    everything = admin.get("/audit/?action=certificate.").context["page"]
    assert everything.paginator.count == 5
    by_actor = admin.get(f"/audit/?actor={TEST_ACTOR.name}").context["page"]
    assert by_actor.paginator.count == 5
    filtered = admin.get("/audit/?action=certificate.revoked&page=1").content.decode()
    assert "certificate.revoked" in filtered and "certificate.renewed</td>" not in filtered
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert admin.get(f"/audit/?since={tomorrow}").context["page"].paginator.count == 0
    today = timezone.localdate().isoformat()
    assert admin.get(f"/audit/?since={today}&until={today}&action=certificate.").context["page"].paginator.count == 5


def test_bad_audit_filters_are_said_at_the_field_never_a_500(tenant_a, signed_in):
    admin = signed_in(tenant_a, "admin")
    for query, field in [("action=DROP TABLE", "action"), ("since=yesterday", "since"),
                         ("actor=99999999999999999999", "actor"), ("since=2026-05-02&until=2026-05-01", "until"),
                         ("channel=pigeon", "channel")]:  # fmt: skip
        response = admin.get(f"/audit/?{query}")
        assert response.status_code == 200, query
        assert field in response.context["form"].errors, query
    assert admin.get("/audit/?page=banana").status_code == 200


@pytest.mark.parametrize("path", [*LISTS, "/accounts/ca/add/", "/accounts/dns/add/", "/cas/add/", "/users/add/"])
def test_the_pages_load_nothing_from_another_host_and_keep_to_the_csp(tenant_a, signed_in, settings, tmp_path, path):
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    html = signed_in(tenant_a, "admin").get(path).content.decode()
    page = parse(html)
    assert page.inline_scripts == 0 and page.style_attrs == 0
    for url in page.urls:
        assert url.startswith(("/", "#", "?")) and not url.startswith("//"), url  # this host only
    assert sum(1 for tag, _ in page.tags if tag == "h1") == 1
    labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    for tag, attrs in page.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            assert attrs.get("id") in labelled or attrs.get("aria-label"), (path, attrs.get("name"))
