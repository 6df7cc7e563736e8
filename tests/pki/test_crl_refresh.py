"""Beat keeps every CA's CRL fresh: a new one at half-life (or when a CA has none), none while the last
is fresh, for retired CAs while what they signed is still valid; in every tenant, through a real worker;
one CRL for many first requests at once. A CA's CRL validity is bounded and audited."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from cryptography import x509
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateVersion, RevocationList
from apps.certificates.pki.authorities import ca_state_set
from apps.certificates.pki.crl import crl_publish
from apps.certificates.pki.crl_refresh import ca_crl_validity_set, crl_for_serving, crls_refresh, crls_refresh_all
from apps.certificates.pki.services import ca_hierarchy_create
from apps.certificates.services.schedule import schedule_install
from certmate.audit.models import AuditEvent
from tests.concurrency import run_together
from tests.factories import TEST_ACTOR
from tests.pki.test_mtls import issue

# No module-wide django_db: the race and the worker test need committed rows (fresh_tenant).
HOUR = timedelta(hours=1)


def numbers(name: str) -> list[int]:
    return list(RevocationList.objects.filter(authority__name=name).values_list("number", flat=True))


def test_beat_signs_a_crl_for_each_ca_without_one_then_only_at_half_life(tenant_a, hierarchy_a):
    now = timezone.now()
    with tenant_context(tenant_a):
        first = crls_refresh(now=now)
        assert (first.checked, sorted(first.published), first.failed) == (2, ["alpha", "alpha-root"], [])
        assert numbers("alpha") == [1] and numbers("alpha-root") == [1]
        # Fresh (validity 168 hours): nothing to do just before half-life...
        assert crls_refresh(now=now + 83 * HOUR).published == []
        assert numbers("alpha") == [1]
        # ...and a new CRL for each once half of it has passed.
        assert sorted(crls_refresh(now=now + 84 * HOUR).published) == ["alpha", "alpha-root"]
        assert numbers("alpha") == [2, 1]
        newest = RevocationList.objects.filter(authority__name="alpha").first()
        assert newest.this_update >= now + 84 * HOUR - timedelta(seconds=1)
        events = AuditEvent.objects.filter(action="certificate_authority.crl_published", object_name="alpha")
        assert [event.changes["crl_number"] for event in events.order_by("pk")] == [[None, 1], [1, 2]]
        assert {event.actor_name for event in events} == {"CRL refresh"}


def test_a_crl_signed_by_a_revocation_counts_as_fresh(tenant_a, hierarchy_a):
    now = timezone.now()
    with tenant_context(tenant_a):
        crl_publish(authority=hierarchy_a[1], now=now - 80 * HOUR)
        crl_publish(authority=hierarchy_a[1], now=now - HOUR)  # a revocation an hour ago
        assert "alpha" not in crls_refresh(now=now).published
        assert numbers("alpha") == [2, 1]


def test_a_shorter_validity_applies_at_the_next_beat_pass(tenant_a, hierarchy_a):
    now = timezone.now()
    with tenant_context(tenant_a):
        crl_publish(authority=hierarchy_a[1], now=now - 3 * HOUR)  # valid 168 hours
        ca_crl_validity_set(authority=hierarchy_a[1], hours=4, actor=TEST_ACTOR)
        assert "alpha" in crls_refresh(now=now).published
        newest = RevocationList.objects.filter(authority__name="alpha").first()
        assert newest.next_update - newest.this_update == 4 * HOUR
        crl = x509.load_der_x509_crl(bytes(newest.der))
        assert crl.next_update_utc - crl.last_update_utc == 4 * HOUR


def test_the_crl_validity_is_bounded_and_audited(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        for bad in (0, 8761, -1, "24", 2.5, True, None):
            with pytest.raises(ValidationError) as refused:
                ca_crl_validity_set(authority=hierarchy_a[1], hours=bad, actor=TEST_ACTOR)
            assert "crl_validity_hours" in refused.value.message_dict
        ca_crl_validity_set(authority=hierarchy_a[1], hours=8760, actor=TEST_ACTOR)
        ca_crl_validity_set(authority=hierarchy_a[1], hours=8760, actor=TEST_ACTOR)  # no change, no event
        assert CertificateAuthority.objects.get(name="alpha").crl_validity_hours == 8760
        events = AuditEvent.objects.filter(action="certificate_authority.crl_validity_changed")
        assert [event.changes for event in events] == [{"crl_validity_hours": [168, 8760]}]


def test_retired_cas_publish_while_what_they_signed_is_valid(tenant_a, hierarchy_a):
    now = timezone.now()
    version = issue(tenant_a, "alpha", "client", name="carol", subject={"common_name": "carol"}, days=30)
    with tenant_context(tenant_a):
        ca_state_set(authority=hierarchy_a[1], state="retired", actor=TEST_ACTOR)
        ca_state_set(authority=hierarchy_a[0], state="retired", actor=TEST_ACTOR)
        # The root signed the intermediate (years); the intermediate signed carol (30 days).
        assert sorted(crls_refresh(now=now).published) == ["alpha", "alpha-root"]
        later = version.not_after + HOUR
        assert crls_refresh(now=later).published == ["alpha-root"]
        assert numbers("alpha") == [1]
        # A CA whose own certificate expired publishes no more, retired or not.
        assert crls_refresh(now=hierarchy_a[0].not_after + HOUR).checked == 0


def test_one_cas_failure_does_not_stop_the_others(tenant_a, hierarchy_a, caplog):
    with tenant_context(tenant_a):
        CertificateAuthority.objects.filter(name="alpha").update(certificate_pem="not a certificate")
        sweep = crls_refresh()
        assert (sweep.published, sweep.failed) == (["alpha-root"], ["alpha"])
    assert "CRL refresh of CA alpha failed" in caplog.text


def test_every_active_tenant_is_refreshed_in_its_own_schema(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    sweeps = {sweep.tenant: sweep for sweep in crls_refresh_all(slugs=["alpha", "beta"])}
    assert sorted(sweeps["alpha"].published) == ["alpha", "alpha-root"]
    assert sorted(sweeps["beta"].published) == ["beta", "beta-root"]
    with tenant_context(tenant_b):
        assert numbers("beta") == [1] and numbers("alpha") == []


def test_the_refresh_is_installed_in_beat(db):
    tasks = {task.name: task for task in schedule_install()}
    refresh = tasks["certmate: CRL refresh"]
    assert refresh.task == "apps.certificates.tasks.crl_refresh_all_task" and refresh.interval.every == 900


def test_first_requests_at_once_sign_one_crl(fresh_tenant):
    tenant = fresh_tenant()
    with tenant_context(tenant):
        _, intermediate = ca_hierarchy_create(name="race", common_name="Race CA", key_type="ec256", actor=TEST_ACTOR)

    def first_request():
        with tenant_context(tenant):
            return crl_for_serving(CertificateAuthority.objects.get(pk=intermediate.pk)).number

    assert run_together(first_request, 4) == [1, 1, 1, 1]
    with tenant_context(tenant):
        assert numbers("race") == [1]


@pytest.mark.worker
def test_beats_task_fans_out_to_every_tenant_through_the_worker(fresh_tenant, worker):
    from apps.certificates.tasks import crl_refresh_all_task

    tenants = [fresh_tenant(), fresh_tenant()]
    for number, tenant in enumerate(tenants):
        with tenant_context(tenant):
            ca_hierarchy_create(name=f"beat{number}", common_name="Beat CA", key_type="ec256", actor=TEST_ACTOR)
    crl_refresh_all_task.delay()
    deadline = time.monotonic() + 60
    for number, tenant in enumerate(tenants):
        with tenant_context(tenant):
            while len(RevocationList.objects.all()) < 2:
                assert time.monotonic() < deadline, worker.log_text()[-2000:]
                time.sleep(0.2)
            assert sorted(RevocationList.objects.values_list("authority__name", flat=True)) == [
                f"beat{number}",
                f"beat{number}-root",
            ]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_pki_crl_command(tenant_a, hierarchy_a):
    assert "alpha: CRL #1 signed" in run("pki", "crl", "refresh", "--tenant", "alpha")
    assert "CRL #2 signed" in run("pki", "crl", "publish", "alpha", "--tenant", "alpha")
    shown = run("pki", "crl", "show", "alpha", "--tenant", "alpha")
    assert "CRL #2" in shown and "0 revoked" in shown and "https://alpha.test/pki/alpha/crl.der" in shown
    assert "valid 24 hours" in run("pki", "crl", "validity", "alpha", "24", "--tenant", "alpha")
    with pytest.raises(CommandError, match="from 1 to 8760"):
        run("pki", "crl", "validity", "alpha", "9000", "--tenant", "alpha")
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.count() == 0
        assert CertificateAuthority.objects.get(name="alpha").crl_validity_hours == 24
