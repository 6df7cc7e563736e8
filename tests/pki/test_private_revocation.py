"""Revoking what a tenant's private CA signed: each RFC 5280 reason ends up in the CA's next CRL (read
by openssl, its signature checked), keyCompromise with its invalidity date; openssl verify with CRL
checking then refuses the certificate. A hold is lifted again; an intermediate is revoked in its root's
CRL and stops issuing. Repeats record nothing; bad input is refused before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.engines import EngineError
from apps.certificates.models import Certificate, CertificateEvent, CertificateVersion, EventKind
from apps.certificates.pki.crl import crl_current, crl_publish
from apps.certificates.pki.engine import PrivateCaEngine
from apps.certificates.pki.revocation_rules import LEAF_REASONS
from apps.certificates.pki.revoking import (
    ca_revoke,
    private_revoke_by_serial,
    private_version_revoke,
    private_version_unhold,
)
from apps.certificates.services.revocation import certificate_revoke
from certmate.audit.models import AuditEvent
from certmate.errors import NotFound
from tests.factories import TEST_ACTOR, certificate_make
from tests.pki.revocation_support import OPENSSL_REASONS, crl_entries, crl_number, crl_text, issue, verify

pytestmark = pytest.mark.django_db


def _refused(code: str, call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        call(**kwargs)
    exc = refused.value
    fields = getattr(exc, "error_dict", {})
    codes = {error.code for errors in fields.values() for error in errors} if fields else {exc.code}
    assert code in {*fields, *codes}, exc
    return refused.value


def test_each_reason_is_listed_in_the_next_crl(tenant_a, hierarchy_a, tmp_path):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        versions = {reason: issue(f"r-{reason}") for reason in LEAF_REASONS}
        for reason, version in versions.items():
            private_version_revoke(version=version, reason=reason, actor=TEST_ACTOR)
        text = crl_text(alpha, tmp_path)
    entries = crl_entries(text)
    assert set(entries) == {int(version.serial, 16) for version in versions.values()}
    for reason, version in versions.items():
        entry = entries[int(version.serial, 16)]
        if reason == "unspecified":  # RFC 5280: the reason code is left out rather than unspecified
            assert "Reason Code" not in entry
        else:
            assert OPENSSL_REASONS[reason] in entry, (reason, entry)
    assert crl_number(text) == len(LEAF_REASONS)  # one CRL per revocation, numbered on


def test_key_compromise_with_an_invalidity_date_and_openssl_refuses_the_certificate(tenant_a, hierarchy_a, tmp_path):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        version = issue("mallory")
        when = version.not_before + timedelta(minutes=1, microseconds=500)
        revoked = private_version_revoke(version=version, reason="keyCompromise", actor=TEST_ACTOR,
                                         invalidity_date=when)  # fmt: skip
        text = crl_text(alpha, tmp_path)
        said = verify(tmp_path, version.certificate_pem, root=root, intermediate=alpha, crls=[alpha])
    assert (revoked.revocation_reason, revoked.invalidity_date) == ("keycompromise", when.replace(microsecond=0))
    entry = crl_entries(text)[int(version.serial, 16)]
    assert "Key Compromise" in entry and "Invalidity Date" in entry
    shown = " ".join(when.astimezone(UTC).strftime("%b %e %H:%M:%S %Y GMT").split())
    assert f"Invalidity Date: {shown}" in " ".join(entry.split()), entry
    assert "certificate revoked" in said


def test_a_good_certificate_verifies_with_the_crl(tenant_a, hierarchy_a, tmp_path):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        good, bad = issue("good"), issue("bad")
        private_version_revoke(version=bad, reason="superseded", actor=TEST_ACTOR)
        said = verify(tmp_path, good.certificate_pem, root=root, intermediate=alpha, crls=[alpha])
    assert said.strip().endswith("OK"), said


def test_repeating_a_revocation_records_nothing_more(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        version = issue("twice")
        first = private_version_revoke(version=version, reason="superseded", actor=TEST_ACTOR)
        number = crl_current(first.authority).number
        again = private_version_revoke(version=version, reason="superseded", actor=TEST_ACTOR)
        assert (again.revoked_at, again.revocation_reason) == (first.revoked_at, first.revocation_reason)
        assert crl_current(first.authority).number == number
        assert AuditEvent.objects.filter(action="certificate.revoked").count() == 1
        assert CertificateEvent.objects.filter(kind=EventKind.REVOKED).count() == 1
        # Another reason is not a repeat: refused, a revocation is final ...
        _refused("revoked", private_version_revoke, version=version, reason="affiliationchanged", actor=TEST_ACTOR)
        _refused("revoked", private_version_revoke, version=version, reason="certificatehold", actor=TEST_ACTOR)
        # ... but a compromise learnt later replaces the reason (the revocation time stays).
        worse = private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR,
                                       invalidity_date=version.not_before + timedelta(minutes=2))  # fmt: skip
        assert (worse.revocation_reason, worse.revoked_at) == ("keycompromise", first.revoked_at)
        assert crl_current(first.authority).number == number + 1
        # An invalidity date only moves earlier: a later one changes nothing, an earlier one is recorded.
        later = private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR,
                                       invalidity_date=version.not_before + timedelta(minutes=3))  # fmt: skip
        assert later.invalidity_date == worse.invalidity_date and crl_current(first.authority).number == number + 1
        earlier = private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR,
                                         invalidity_date=version.not_before)  # fmt: skip
        assert earlier.invalidity_date == version.not_before and crl_current(first.authority).number == number + 2


def test_an_expired_certificate_can_be_revoked(tenant_a, hierarchy_a, tmp_path):
    _, alpha = hierarchy_a
    with tenant_context(tenant_a):
        version = issue("old")
        past = timezone.now() - timedelta(days=400)
        CertificateVersion.objects.filter(pk=version.pk).update(not_before=past, not_after=past + timedelta(days=30))
        revoked = private_version_revoke(version=version, reason="cessationofoperation", actor=TEST_ACTOR)
        text = crl_text(alpha, tmp_path)
        recorded = AuditEvent.objects.get(action="certificate.revoked")
    assert revoked.revoked_at is not None and int(version.serial, 16) in crl_entries(text)
    assert recorded.changes["revocation_reason"] == ["", "cessationofoperation"]


def test_hold_then_lift_it_and_the_serial_leaves_the_next_crl(tenant_a, hierarchy_a, tmp_path):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        version = issue("laptop")
        held = private_version_revoke(version=version, reason="certificatehold", actor=TEST_ACTOR)
        assert "Certificate Hold" in crl_entries(crl_text(alpha, tmp_path))[int(version.serial, 16)]
        assert Certificate.objects.get(pk=version.certificate_id).renew_at is None  # the sweep leaves it
        said = verify(tmp_path, version.certificate_pem, root=root, intermediate=alpha, crls=[alpha])
        assert "certificate revoked" in said
        lifted = private_version_unhold(version=held, actor=TEST_ACTOR)
        text = crl_text(alpha, tmp_path)
        again = private_version_unhold(version=held, actor=TEST_ACTOR)  # nothing held: answered as it is
        assert crl_current(alpha).number == crl_number(text)
        said = verify(tmp_path, version.certificate_pem, root=root, intermediate=alpha, crls=[alpha])
        assert Certificate.objects.get(pk=version.certificate_id).renew_at is not None
        actions = list(AuditEvent.objects.filter(action__startswith="certificate.h").values_list("action", flat=True))
    assert lifted.revoked_at is None and again.revoked_at is None and lifted.revocation_reason == ""
    assert int(version.serial, 16) not in crl_entries(text) and said.strip().endswith("OK"), said
    assert actions == ["certificate.hold_lifted"]


def test_a_hold_made_final_keeps_its_time_and_cannot_be_lifted(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        version = issue("phone")
        held = private_version_revoke(version=version, reason="certificatehold", actor=TEST_ACTOR)
        final = private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR)
        assert (final.revoked_at, final.revocation_reason) == (held.revoked_at, "keycompromise")
        _refused("revoked", private_version_unhold, version=version, actor=TEST_ACTOR)
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is not None


def test_by_serial_in_hex_as_openssl_prints_it_or_decimal_as_certmate_shows_it(tenant_a, hierarchy_a):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        versions = [issue(f"s{n}") for n in range(3)]
        number = int(versions[0].serial, 16)
        hexadecimal = f"{number:x}".zfill(len(f"{number:x}") + len(f"{number:x}") % 2)
        colons = ":".join(hexadecimal[i : i + 2] for i in range(0, len(hexadecimal), 2)).upper()
        done = private_revoke_by_serial(authority=alpha, serial_hex=colons, reason="superseded", actor=TEST_ACTOR)
        assert done.pk == versions[0].pk
        by_decimal = private_revoke_by_serial(authority=alpha, serial_hex=str(int(versions[1].serial, 16)),
                                              reason="superseded", actor=TEST_ACTOR)  # fmt: skip
        assert by_decimal.pk == versions[1].pk
        by_prefix = private_revoke_by_serial(authority=alpha, serial_hex="0x" + versions[2].serial.upper(),
                                             reason="superseded", actor=TEST_ACTOR)  # fmt: skip
        assert by_prefix.pk == versions[2].pk
        with pytest.raises(NotFound):
            private_revoke_by_serial(authority=alpha, serial_hex="0x1234", reason="superseded", actor=TEST_ACTOR)
        with pytest.raises(NotFound):  # the root signed none of them
            private_revoke_by_serial(authority=root, serial_hex=versions[0].serial, reason="superseded",
                                     actor=TEST_ACTOR)  # fmt: skip
        for garbage in ("", "zz", "0x", "-5", "1" * 65, "f" * 41, None, 3.5, ["1"]):
            _refused("serial", private_revoke_by_serial, authority=alpha, serial_hex=garbage, reason="superseded",
                     actor=TEST_ACTOR)  # fmt: skip


def test_bad_input_is_refused_and_changes_nothing(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        version = issue("input")
        for reason in ("cacompromise", "removefromcrl", "bogus", "", None, 7, "x" * 10_000):
            _refused("invalid_reason", private_version_revoke, version=version, reason=reason, actor=TEST_ACTOR)
        late = timezone.now() + timedelta(days=1)
        early = version.not_before - timedelta(days=1)
        for when in (late, early, "2024-01-01", 12):
            _refused("invalidity_date", private_version_revoke, version=version, reason="keycompromise",
                     actor=TEST_ACTOR, invalidity_date=when)  # fmt: skip
        _refused("invalidity_date", private_version_revoke, version=version, reason="certificatehold",
                 actor=TEST_ACTOR, invalidity_date=timezone.now())  # fmt: skip
        acme = certificate_make("acme.alpha.test").current_version
        _refused("not_private", private_version_revoke, version=acme, reason="superseded", actor=TEST_ACTOR)
        assert CertificateVersion.objects.filter(revoked_at__isnull=False).count() == 0
        assert crl_current(version.authority) is None
        # A naive time is UTC; a few minutes ahead (a client's clock) is taken as now.
        soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=2)
        revoked = private_version_revoke(version=version, reason="keycompromise", actor=TEST_ACTOR,
                                         invalidity_date=soon)  # fmt: skip
        assert revoked.invalidity_date <= revoked.revoked_at


def test_a_revoked_certificate_is_not_renewed_by_certmate(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        version = issue("renewing")
        private_version_revoke(version=version, reason="affiliationchanged", actor=TEST_ACTOR)
        certificate = Certificate.objects.select_related("current_version").get(pk=version.certificate_id)
        assert certificate.renew_at is None
        with pytest.raises(EngineError) as refused:
            PrivateCaEngine().check(certificate)
        assert refused.value.code == "revoked"


def test_the_native_revocation_service_routes_private_certificates(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        version = issue("routed")
        certificate = Certificate.objects.get(pk=version.certificate_id)
        job = certificate_revoke(certificate=certificate, reason="certificatehold", actor=TEST_ACTOR)
        assert (job.status, job.operation, job.version_id, job.revocation_reason) == (
            "succeeded", "revoke", version.pk, "certificatehold",
        )  # fmt: skip
        assert certificate_revoke(certificate=certificate, reason="certificatehold", actor=TEST_ACTOR).pk == job.pk
        final = certificate_revoke(certificate=certificate, reason="keycompromise", actor=TEST_ACTOR,
                                   invalidity_date=version.not_before)  # fmt: skip
        assert final.pk != job.pk and final.version.revocation_reason == "keycompromise"
        assert CertificateVersion.objects.get(pk=version.pk).invalidity_date == version.not_before
        event = CertificateEvent.objects.filter(kind=EventKind.REVOKED).order_by("-pk").first()
        assert event.detail == {"reason": "keycompromise", "serial": version.serial}


def test_revoking_an_intermediate_lists_it_in_the_roots_crl_and_stops_it_issuing(tenant_a, hierarchy_a, tmp_path):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        leaf = issue("before")
        revoked = ca_revoke(authority=alpha, reason="keycompromise", actor=TEST_ACTOR)
        text = crl_text(root, tmp_path)
        number = crl_current(root).number
        assert ca_revoke(authority=alpha, reason="cacompromise", actor=TEST_ACTOR).revoked_at == revoked.revoked_at
        assert crl_current(root).number == number  # repeated: nothing signed again
        with pytest.raises(ValidationError) as refused:
            issue("after")
        assert refused.value.code == "ca_unavailable"
        _refused("not_revocable", ca_revoke, authority=root, reason="superseded", actor=TEST_ACTOR)
        _refused("invalid_reason", ca_revoke, authority=alpha, reason="certificatehold", actor=TEST_ACTOR)
        crl_publish(authority=alpha)  # -crl_check_all wants every CA's CRL (the beat signs one anyway)
        said = verify(tmp_path, leaf.certificate_pem, root=root, intermediate=alpha, crls=[root, alpha],
                      check="-crl_check_all")  # fmt: skip
        recorded = AuditEvent.objects.filter(action="certificate_authority.revoked").count()
    assert (revoked.state, revoked.revocation_reason, revoked.is_default) == ("retired", "cacompromise", False)
    assert "CA Compromise" in crl_entries(text)[int(alpha.serial, 16)]
    assert "certificate revoked" in said and recorded == 1


def test_tenants_revoke_only_their_own(tenant_a, tenant_b, hierarchy_a, hierarchy_b, tmp_path):
    with tenant_context(tenant_a):
        version = issue("shared-name")
    with tenant_context(tenant_b):
        mine = issue("shared-name", ca="beta")
        beta = mine.authority
        with pytest.raises(NotFound):
            private_revoke_by_serial(authority=beta, serial_hex=version.serial, reason="superseded", actor=TEST_ACTOR)
        private_version_revoke(version=mine, reason="superseded", actor=TEST_ACTOR)
        entries = crl_entries(crl_text(beta, tmp_path))
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=version.pk).revoked_at is None
        assert crl_current(version.authority) is None
    assert set(entries) == {int(mine.serial, 16)}
