"""``manage.py pki revoke``, ``revoke-ca`` and ``revoke-bulk``: what they print, what the CRL then says,
holds lifted, refusals as one-line errors, and a tenant that cannot reach another's certificates."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from apps.certificates.models import BulkRevocation, CertificateVersion
from certmate.audit.models import AuditEvent
from tests.pki.revocation_support import crl_entries, crl_text, issue
from tests.pki.test_pki_issue_command import pki

pytestmark = pytest.mark.django_db


def test_revoke_by_name_with_a_reason_and_an_invalidity_date(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        version = issue("alice-laptop")
    when = version.not_before.strftime("%Y-%m-%dT%H:%M:%SZ")
    printed = pki("revoke", "--tenant", "alpha", "alice-laptop", "--reason", "keyCompromise", "--invalidity-date", when)
    assert f"client certificate alice-laptop version 1 (serial {version.serial}) revoked: keycompromise" in printed
    assert "invalid since" in printed and "CRL #1 of CA 'alpha': 1 revoked" in printed
    assert "CRL #1 of CA 'alpha'" in pki("revoke", "--tenant", "alpha", "alice-laptop", "--reason", "keycompromise")
    with tenant_context(tenant_a):
        entry = crl_entries(crl_text(hierarchy_a[1], tmp_path))[int(version.serial, 16)]
        recorded = list(AuditEvent.objects.filter(action="certificate.revoked").values_list("actor_name", flat=True))
    assert "Key Compromise" in entry and "Invalidity Date" in entry
    assert recorded == ["manage.py pki"]  # the repeat recorded nothing


def test_hold_by_serial_then_lift_it(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        version = issue("printer")
    even = version.serial.zfill(len(version.serial) + len(version.serial) % 2)
    colons = ":".join(even[i : i + 2] for i in range(0, len(even), 2))
    by_serial = ("--serial", colons.upper(), "--ca", "alpha")
    held = pki("revoke", "--tenant", "alpha", *by_serial, "--reason", "certificatehold")
    assert "revoked: certificatehold" in held
    lifted = pki("revoke", "--tenant", "alpha", "printer", "--unhold")
    assert "printer version 1" in lifted and "is not revoked" in lifted and "CRL #2 of CA 'alpha': 0 revoked" in lifted
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody",), "no private certificate named 'nobody'"),
        (("bob", "--serial", "12"), "not both"),
        (("--serial", "12"), "--serial with --ca"),
        ((), "give a certificate's name"),
        (("bob", "--reason", "cacompromise"), "not a reason to revoke this for"),
        (("bob", "--reason", "keycompromise", "--invalidity-date", "soon"), "give an ISO 8601 date"),
        (("bob", "--reason", "keycompromise", "--invalidity-date", "2999-01-01"), "is in the future"),
        (("bob", "--version", "7"), "has no version 7"),
        (("--serial", "0x1234", "--ca", "alpha"), "signed no certificate with serial"),
        (("--serial", "zz", "--ca", "alpha"), "give a serial number"),
        (("--serial", "12", "--ca", "nope"), "no CA 'nope'"),
    ],
)
def test_refusals_are_one_line_errors(tenant_a, hierarchy_a, args, message):
    with tenant_context(tenant_a):
        issue("bob")
    with pytest.raises(CommandError, match=message):
        pki("revoke", "--tenant", "alpha", *args)
    with tenant_context(tenant_a):
        assert not CertificateVersion.objects.filter(revoked_at__isnull=False).exists()


def test_only_a_hold_is_lifted(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        issue("bob")
    pki("revoke", "--tenant", "alpha", "bob", "--reason", "superseded")
    with pytest.raises(CommandError, match="only a hold"):
        pki("revoke", "--tenant", "alpha", "bob", "--unhold")


def test_another_tenant_cannot_reach_the_certificate(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with tenant_context(tenant_a):
        version = issue("alice-laptop")
    with pytest.raises(CommandError, match="no private certificate named"):
        pki("revoke", "--tenant", "beta", "alice-laptop")
    with pytest.raises(CommandError, match="no CA 'alpha'"):
        pki("revoke", "--tenant", "beta", "--serial", version.serial, "--ca", "alpha")
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is None


def test_revoke_an_intermediate_and_not_a_root(tenant_a, hierarchy_a, tmp_path):
    printed = pki("revoke-ca", "--tenant", "alpha", "alpha", "--reason", "superseded")
    assert "CA 'alpha' revoked: superseded" in printed and "it is retired" in printed
    assert "CRL #1 of CA 'alpha-root': 1 revoked" in printed
    with pytest.raises(CommandError, match="it is a root"):
        pki("revoke-ca", "--tenant", "alpha", "alpha-root")
    with pytest.raises(CommandError, match="CA 'alpha' issues no certificates"):
        pki("issue", "--tenant", "alpha", "--ca", "alpha", "--cn", "late")


def test_bulk_preview_and_submit(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        for name in ("bob-1", "bob-2"):
            issue(name, common_name="Bob")
    base = ("revoke-bulk", "--tenant", "alpha", "--ca", "alpha", "--subject", "bob", "--reason", "superseded")
    assert "2 certificate versions of CA 'alpha' match" in pki(*base, "--preview")
    with tenant_context(tenant_a):
        assert not BulkRevocation.objects.exists()
    assert "submitted: 2 certificate versions match" in pki(*base)
    with pytest.raises(CommandError, match="say what to revoke"):
        pki("revoke-bulk", "--tenant", "alpha", "--ca", "alpha", "--reason", "superseded")
    with pytest.raises(CommandError, match="has no profile 'nope'"):
        pki("revoke-bulk", "--tenant", "alpha", "--ca", "alpha", "--profile", "nope", "--reason", "superseded")
