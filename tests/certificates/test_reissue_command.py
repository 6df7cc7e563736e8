"""``manage.py reissue``: a selector from options, a preview, the bulk reissue asked for in the tenant named
(and nowhere else), --wait printing its progress until it has finished, --json as the API answers, and
exit status 2 when any certificate failed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.certificates.models import BulkReissue
from apps.certificates.services.reissue_advance import bulk_reissue_advance
from certmate.audit.models import AuditEvent
from tests.certificates.reissue_support import estate, item_of, renewal_fails
from tests.conftest import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db
ALPHA, BETA = ["--tenant", TENANT_A["slug"]], ["--tenant", TENANT_B["slug"]]


def run(*args) -> str:
    out = StringIO()
    call_command("reissue", *args, stdout=out)
    return out.getvalue()


def test_ask_then_follow_to_the_end(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        made = estate()
    assert run(*ALPHA, "--ca-account", "le", "--names", "*.alpha.test", "--preview") == "2 certificates match\n"
    said = run(*ALPHA, "--ca-account", "le", "--revoke-old", "--reason", "superseded")
    with tenant_context(tenant_a):
        bulk = BulkReissue.objects.get()
        assert said == f"bulk reissue {bulk.pk} asked for: 2 certificates, revoking the old versions (superseded)\n"
        assert AuditEvent.objects.get(action="bulk_reissue.requested").channel == "command"
        bulk_reissue_advance(bulk_id=bulk.pk)
        for name in ("shop", "api"):
            renewal_fails(item_of(made[name]), f"{name}.alpha.test: unauthorized")
        bulk_reissue_advance(bulk_id=bulk.pk)
    with tenant_context(tenant_b):
        assert not BulkReissue.objects.exists()

    out = StringIO()
    with pytest.raises(CommandError, match="2 of 2 failed") as failed:
        call_command("reissue", *ALPHA, "--show", str(bulk.pk), "--wait", stdout=out)
    assert failed.value.returncode == 2
    text = out.getvalue()
    assert (
        "api.alpha.test: failed" in text
        and "api.alpha.test v1: failed: renewal failed (v1 stays current, not revoked): api.alpha.test: " in text
    )
    assert text.rstrip().endswith(f"bulk reissue {bulk.pk} failed: 2 of 2 finished, 0 renewed, 0 revoked, 2 failed")

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("reissue", *ALPHA, "--show", str(bulk.pk), "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert (shown["id"], shown["status"], shown["failed"]) == (bulk.pk, "failed", 2)
    assert [item["status"] for item in shown["items"]] == ["failed", "failed"]


def test_refusals_are_one_line(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        estate()
    with pytest.raises(CommandError, match=r"selector.names: 'a b' is not a name glob"):
        run(*ALPHA, "--names", "a b")
    with pytest.raises(CommandError, match=r"selector: say which certificates"):
        run(*ALPHA, "--revoke-old")
    with pytest.raises(CommandError, match=r"no CA account named 'le' here"):
        run(*BETA, "--ca-account", "le")  # alpha's account is no business of beta's
    with pytest.raises(CommandError, match=r"no bulk reissue 7"):
        run(*BETA, "--show", "7")
    with pytest.raises(CommandError, match=r"no tenant with slug 'nobody'"):
        run("--tenant", "nobody", "--names", "*")
