"""A CA's states (active, disabled, retired) as issuing sees them, and the tenant's default CA: made
once on first use, only ever one, never one that cannot issue; nothing crosses tenants."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.authorities import ca_default_ensure, ca_default_set, ca_resolve, ca_state_set
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from certmate.audit.models import AuditEvent
from certmate.errors import NotFound
from tests.factories import TEST_ACTOR
from tests.pki.outside_ca import refused

pytestmark = pytest.mark.django_db


def _issue(authority: CertificateAuthority, name: str):
    profile = CertificateProfile.objects.get(authority=authority, name="client")
    return private_certificate_issue(PrivateRequest(profile=profile, subject={"common_name": name}, name=name),
                                     actor=TEST_ACTOR)  # fmt: skip


def _state_events(name: str) -> int:
    return AuditEvent.objects.filter(action="certificate_authority.state_changed", object_name=name).count()


def test_a_disabled_ca_issues_nothing_until_enabled_again(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        ca_state_set(authority=alpha, state="disabled", actor=TEST_ACTOR)
        assert refused(_issue, authority=alpha, name="alice") == {"ca_unavailable"}
        ca_state_set(authority=alpha, state="disabled", actor=TEST_ACTOR)  # again: nothing to do
        assert _state_events("alpha") == 1
        event = AuditEvent.objects.get(action="certificate_authority.state_changed", object_name="alpha")
        assert event.changes == {"state": ["active", "disabled"]}
        assert ca_state_set(authority=alpha, state="active", actor=TEST_ACTOR).state == "active"
        assert _issue(alpha, "alice").status == "active"
        assert _state_events("alpha") == 2


def test_retired_is_final(tenant_a, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        ca_default_set(authority=alpha, actor=TEST_ACTOR)
        retired = ca_state_set(authority=alpha, state="retired", actor=TEST_ACTOR)
        assert (retired.state, retired.is_default) == ("retired", False)
        for state in ("active", "disabled"):
            assert refused(ca_state_set, authority=alpha, state=state, actor=TEST_ACTOR) == {"retired"}
        assert ca_state_set(authority=alpha, state="retired", actor=TEST_ACTOR).state == "retired"
        assert refused(_issue, authority=alpha, name="bob") == {"ca_unavailable"}
        assert refused(ca_default_set, authority=alpha, actor=TEST_ACTOR) == {"ca_unavailable"}
        assert _state_events("alpha") == 1
        for bad in ("pending", "ACTIVE", None, ["active"], "x" * 1000):
            refused(ca_state_set, authority=alpha, state=bad, actor=TEST_ACTOR)


def test_default_ensure_makes_one_hierarchy_and_keeps_it(tenant_a):
    with tenant_context(tenant_a):
        first = ca_default_ensure(actor=TEST_ACTOR)
        second = ca_default_ensure(actor=TEST_ACTOR)
        assert first.pk == second.pk and first.name == "default" and first.is_default
        assert first.subject == f"CN={tenant_a.name} Private CA"
        assert sorted(CertificateAuthority.objects.values_list("name", flat=True)) == ["default", "default-root"]
        assert AuditEvent.objects.filter(action="certificate_authority.default_set").count() == 1
        assert _issue(first, "carol").authority_id == first.pk


def test_a_retired_default_gives_way_to_a_new_one(tenant_a):
    with tenant_context(tenant_a):
        old = ca_default_ensure(actor=TEST_ACTOR)
        ca_state_set(authority=old, state="retired", actor=TEST_ACTOR)
        new = ca_default_ensure(actor=TEST_ACTOR)
        assert new.pk != old.pk and new.name == "default-2" and new.can_issue


def test_one_default_at_a_time_and_only_an_issuing_ca(tenant_a, hierarchy_a):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        made = ca_default_ensure(actor=TEST_ACTOR)  # alpha exists, but none is the default yet
        assert made.name == "default"
        ca_default_set(authority=alpha, actor=TEST_ACTOR)
        assert list(CertificateAuthority.objects.filter(is_default=True)) == [alpha]
        assert ca_default_ensure(actor=TEST_ACTOR).pk == alpha.pk
        event = AuditEvent.objects.filter(action="certificate_authority.default_set").latest("pk")
        assert event.changes == {"default": ["default", "alpha"]}
        assert refused(ca_default_set, authority=root, actor=TEST_ACTOR) == {"ca_unavailable"}
        ca_state_set(authority=made, state="disabled", actor=TEST_ACTOR)
        assert refused(ca_default_set, authority=made, actor=TEST_ACTOR) == {"ca_unavailable"}


def test_tenants_never_see_each_others_cas(tenant_a, tenant_b, hierarchy_a):
    _, alpha = hierarchy_a
    with tenant_context(tenant_b):
        for value in ("alpha", "alpha-root", alpha.pk, str(alpha.pk)):
            with pytest.raises(NotFound):
                ca_resolve(value)
        own = ca_default_ensure(actor=TEST_ACTOR)
        assert ca_resolve("default") == own
    with tenant_context(tenant_a):
        assert not CertificateAuthority.objects.filter(is_default=True).exists()
        for value in (None, True, 1.5, "", "x" * 1000, "alpha\x00"):
            with pytest.raises(NotFound):
                ca_resolve(value)
