"""manage.py notifications: list (never a URL), test NAME (exit 1 when not delivered), deliveries [--failed]."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from tests.conftest import TENANT_A, TENANT_B
from tests.notifications.servers import Reply
from tests.notifications.support import audited, email_channel, flag, webhook_channel

ALPHA, BETA = TENANT_A["slug"], TENANT_B["slug"]


def run(*args) -> str:
    out = StringIO()
    call_command("notifications", *args, stdout=out)
    return out.getvalue()


def test_list_shows_where_and_the_state_never_the_url(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        webhook_channel("https://hooks.example.com/T000/SECRETTOKEN", name="hook")
        flag(email_channel(name="ops"), "550 mailbox unavailable")
    listing = run("list", "--tenant", ALPHA)
    assert "hook\twebhook\thttps://hooks.example.com" in listing and "SECRETTOKEN" not in listing
    assert "ops\temail\tops@example.com\tFLAGGED (5 failures: 550 mailbox unavailable)" in listing
    assert run("list", "--tenant", BETA) == ""


def test_test_and_the_delivery_log(tenant_a, http_receiver):
    with tenant_context(tenant_a):
        webhook_channel(http_receiver.url(), name="hook")
    assert run("test", "hook", "--tenant", ALPHA) == "hook: the test notice was delivered (HTTP 200).\n"
    http_receiver.script(Reply(status=403))
    with pytest.raises(CommandError, match="hook: the test notice was not delivered: the webhook answered 403"):
        run("test", "hook", "--tenant", ALPHA)
    every = run("deliveries", "--tenant", ALPHA).splitlines()
    assert len(every) == 2 and "failed" in every[0] and "delivered" in every[1]
    failed = run("deliveries", "--tenant", ALPHA, "--failed").splitlines()
    assert len(failed) == 1 and "HTTP 403" in failed[0]
    with tenant_context(tenant_a):
        assert audited("command", "hook").count("notification_channel.tested") == 2


def test_unknown_names_and_tenants_are_said(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        email_channel(name="alpha-only")
    with pytest.raises(CommandError, match="no channel named 'alpha-only'"):
        run("test", "alpha-only", "--tenant", BETA)
    with pytest.raises(CommandError, match="no tenant"):
        run("list", "--tenant", "gamma")
