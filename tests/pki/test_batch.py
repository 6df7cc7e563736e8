"""Batch issuance from a private CA: a result per row (refused rows with their reason, the others
issued), the idempotency key, CSV uploads, profiles enforced on every row, two tenants."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateAuthority, IssuanceBatch
from apps.certificates.pki.batch_rows import batch_rows_from_csv
from apps.certificates.pki.batching import batch_run, batch_run_inline, batch_submit
from apps.certificates.pki.profile_services import profile_create
from certmate.audit.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl

pytestmark = pytest.mark.django_db

ROWS = [
    {"common_name": "alice", "san": "email:alice@alpha.test", "name": "alice-laptop"},
    {"common_name": "bob", "alt_names": ["email:bob@alpha.test"], "key_type": "rsa9999"},
    {"common_name": "carol", "name": "carol/phone"},
    {"common_name": "dave", "days": 30, "usage": "vpn", "notes": "from HR"},
]


def _alpha() -> CertificateAuthority:
    return CertificateAuthority.objects.get(name="alpha")


def _submitted(rows, key="batch-1", **options) -> IssuanceBatch:
    batch, created = batch_submit(authority=_alpha(), rows=rows, idempotency_key=key, actor=TEST_ACTOR, **options)
    assert created
    return batch_run(batch_id=batch.pk)


def test_refused_rows_are_reported_with_their_reason_and_the_others_issued(tenant_a, hierarchy_a, tmp_path):
    with tenant_context(tenant_a):
        batch = _submitted(ROWS)
        assert (batch.status, batch.total, batch.done, batch.succeeded, batch.failed) == (
            "failed-partially",
            4,
            4,
            2,
            2,
        )
        by_row = {result["row"]: result for result in batch.results}
        assert by_row[1] == {"row": 1, "identifier": "alice-laptop", "status": "issued", "error": None, "code": None}
        assert by_row[2]["status"] == "failed" and "rsa9999" in by_row[2]["error"] and by_row[2]["identifier"] is None
        assert by_row[3]["status"] == "failed" and "starting with a letter or digit" in by_row[3]["error"]
        assert by_row[4]["identifier"].startswith("dave-")
        dave = Certificate.objects.get(identifier=by_row[4]["identifier"])
        assert (dave.usage, dave.notes, dave.validity_days, dave.kind) == ("vpn", "from HR", 30, "client")
        alice = Certificate.objects.get(identifier="alice-laptop").current_version
        # each certificate keeps its own audit events, issued on behalf of who submitted the batch
        events = AuditEvent.objects.filter(object_name="alice-laptop").values_list("action", "actor_name")
        assert set(events) == {("certificate.requested", TEST_ACTOR.name), ("certificate.issued", TEST_ACTOR.name)}
        assert AuditEvent.objects.filter(action="certificate_batch.finished", object_name="batch-1").exists()
    (tmp_path / "leaf.pem").write_text(alice.certificate_pem)
    (tmp_path / "chain.pem").write_text(alice.chain_pem)
    assert (
        openssl("verify", "-CAfile", str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem"))
        .stdout.strip()
        .endswith("OK")
    )


def test_the_same_key_twice_creates_nothing_twice(tenant_a, hierarchy_a):
    rows = [{"common_name": "erin"}, {"common_name": "frank"}]
    with tenant_context(tenant_a):
        first = _submitted(rows, key="again")
        again, created = batch_submit(authority=_alpha(), rows=rows, idempotency_key="again", actor=TEST_ACTOR)
        assert not created and again.pk == first.pk
        batch_run(batch_id=first.pk)  # a redelivered job: nothing left to do
        assert Certificate.objects.filter(subject_fields__common_name__in=["erin", "frank"]).count() == 2
        assert IssuanceBatch.objects.count() == 1
        assert AuditEvent.objects.filter(action="certificate_batch.submitted").count() == 1


def test_an_interrupted_job_carries_on_where_it_stopped(tenant_a, hierarchy_a, monkeypatch):
    from apps.certificates.pki import batching

    monkeypatch.setattr(batching, "CHUNK_ROWS", 2)
    rows = [{"common_name": f"device-{n}"} for n in range(5)]
    with tenant_context(tenant_a):
        batch, _ = batch_submit(authority=_alpha(), rows=rows, idempotency_key="resume", actor=TEST_ACTOR)
        calls = []
        real = batching.RowIssuer.issue

        def dies_on_row_4(self, number, row):
            if number == 4 and not calls:
                calls.append(number)
                raise KeyboardInterrupt  # the worker stops in the middle of the second chunk
            return real(self, number, row)

        monkeypatch.setattr(batching.RowIssuer, "issue", dies_on_row_4)
        with pytest.raises(KeyboardInterrupt):
            batch_run(batch_id=batch.pk)
        batch.refresh_from_db()
        assert (batch.done, batch.status) == (2, "running")  # the first chunk is kept, the second rolled back
        assert Certificate.objects.filter(subject_fields__common_name__startswith="device-").count() == 2
        batch = batch_run(batch_id=batch.pk)
        assert (batch.done, batch.succeeded, batch.status) == (5, 5, "succeeded")
        assert Certificate.objects.filter(subject_fields__common_name__startswith="device-").count() == 5


def test_the_same_key_with_other_rows_is_a_conflict(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        _submitted([{"common_name": "gina"}], key="taken")
        with pytest.raises(ValidationError) as refused:
            batch_submit(authority=_alpha(), rows=[{"common_name": "hank"}], idempotency_key="taken", actor=TEST_ACTOR)
        assert refused.value.code == "idempotency_conflict"
        assert not Certificate.objects.filter(subject_fields__common_name="hank").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"common_name": "x", "colour": "red"}], "row 1: unknown columns colour"),
        ([{"common_name": "x"}, "nope"], "row 2: each row must be an object"),
        ([{"common_name": "x", "days": "soon"}], "row 1: days must be a whole number"),
        ([], "at least one row"),
        ([{"common_name": "x"}] * 10_001, "at most 10000 rows"),
    ],
)
def test_rows_of_the_wrong_shape_are_refused_up_front(tenant_a, hierarchy_a, rows, message):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as refused:
            batch_submit(authority=_alpha(), rows=rows, idempotency_key="shape", actor=TEST_ACTOR)
        assert message in refused.value.messages[0]
        assert not IssuanceBatch.objects.exists()


def test_a_csv_upload_and_a_bad_line_named_by_its_number():
    rows = batch_rows_from_csv(
        b"\xef\xbb\xbfcommon_name,san,profile,days\r\nalice,email:alice@alpha.test;DNS:a.alpha.test,client,30\r\n"
    )
    assert rows == [{"common_name": "alice", "san": "email:alice@alpha.test;DNS:a.alpha.test", "profile": "client",
                     "days": "30"}]  # fmt: skip
    with pytest.raises(ValidationError, match="line 4: 3 values for 2 columns"):
        batch_rows_from_csv("common_name,days\nalice,1\n\nbob,2,extra\n")
    with pytest.raises(ValidationError, match="line 3: days must be a whole number"):
        batch_rows_from_csv("common_name,days\nalice,1\nbob,never\n")
    with pytest.raises(ValidationError, match="line 1: unknown or repeated columns colour"):
        batch_rows_from_csv("common_name,colour\nalice,red\n")
    with pytest.raises(ValidationError, match="larger than 5 MiB"):
        batch_rows_from_csv(b"common_name\n" + b"a\n" * (3 * 1024 * 1024))


def test_each_row_is_held_to_its_profile(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        profile_create(authority=_alpha(), name="staff", actor=TEST_ACTOR, kind="client",
                       key_usage=["digitalSignature"], extended_key_usage=["clientAuth"], san_types=["email"],
                       name_patterns={"email": ["@alpha.test"]})  # fmt: skip
        rows = [
            {"common_name": "ivy", "san": "email:ivy@alpha.test"},
            {"common_name": "mallory", "san": "email:m@evil.test"},
            {"common_name": "nope", "profile": "no-such-profile"},
        ]
        batch = _submitted(rows, profile="staff")
        ok, refused, unknown = batch.results
        assert ok["status"] == "issued"
        assert refused["code"] == "profile_refused" and "'m@evil.test'" in refused["error"]
        assert "staff" in refused["error"] and "@alpha.test" in refused["error"]
        assert unknown["error"] == "CA 'alpha' has no profile 'no-such-profile'"


def test_two_tenants(tenant_a, tenant_b, hierarchy_a, hierarchy_b):
    with tenant_context(tenant_b):
        beta = CertificateAuthority.objects.get(name="beta")
        batch, _ = batch_submit(authority=beta, rows=[{"common_name": "zed"}], idempotency_key="k", actor=TEST_ACTOR)
        batch_run(batch_id=batch.pk)
    with tenant_context(tenant_a):
        assert not IssuanceBatch.objects.exists() and not CertificateAuthority.objects.filter(name="beta").exists()
        assert batch_run(batch_id=batch.pk) is None  # tenant B's batch id means nothing here
        mine = _submitted([{"common_name": "zed"}], key="k")  # the same key in another tenant is another batch
        assert mine.succeeded == 1
        assert Certificate.objects.get(subject_fields__common_name="zed").authority.name == "alpha"


def test_inline_rows_for_synchronous_endpoints(tenant_a, hierarchy_a):
    with tenant_context(tenant_a):
        results = batch_run_inline(authority=_alpha(), rows=[{"common_name": "quinn"}, {"name": "bad/name"}],
                                   actor=TEST_ACTOR)  # fmt: skip
        assert [result["status"] for result in results] == ["issued", "failed"]
        assert not IssuanceBatch.objects.exists()
        with pytest.raises(ValidationError, match="at most 100 rows"):
            batch_run_inline(authority=_alpha(), rows=[{"common_name": "x"}] * 101, actor=TEST_ACTOR)


def test_the_command_issues_a_csv_file_and_prints_each_row(
    tenant_a, hierarchy_a, tmp_path, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from django.core.management import CommandError, call_command

    from certmate.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    path = tmp_path / "people.csv"
    path.write_text("common_name,san,name\nolga,email:olga@alpha.test,olga\npeter,,bad/name\n")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("pki", "batch", "--tenant", "alpha", "--ca", "alpha", str(path), stdout=out)
    assert "submitted: 2 rows" in out.getvalue()
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 rows failed"):  # the same file again: the same batch, waited for
        call_command("pki", "batch", "--tenant", "alpha", "--ca", "alpha", "--wait", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert "was submitted before" in lines[0]
    assert lines[1] == "row 1: issued olga" and lines[2].startswith("row 2: failed: use 1 to 128 letters")
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(identifier="olga").count() == 1
    with pytest.raises(CommandError, match="no CA named 'gamma'"):
        call_command("pki", "batch", "--tenant", "alpha", "--ca", "gamma", str(path))


def test_submitting_again_resends_a_batch_whose_task_was_lost(
    tenant_a, hierarchy_a, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    rows = [{"common_name": "lost"}]
    with tenant_context(tenant_a):
        with django_capture_on_commit_callbacks() as sent:
            batch, _ = batch_submit(authority=_alpha(), rows=rows, idempotency_key="lost", actor=TEST_ACTOR)
            batch_submit(authority=_alpha(), rows=rows, idempotency_key="lost", actor=TEST_ACTOR)
        assert len(sent) == 1  # sent again at once: nothing was lost yet
        IssuanceBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=10))
        with django_capture_on_commit_callbacks() as sent:
            again, created = batch_submit(authority=_alpha(), rows=rows, idempotency_key="lost", actor=TEST_ACTOR)
        assert (again.pk, created, len(sent)) == (batch.pk, False, 1)
