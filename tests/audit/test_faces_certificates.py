"""A certificate changed through the API and through the tenant admin: the same refusal, or the same
resulting row and the same audit event (only the channel and the person differ). Private-key downloads
are audit events, and the download records kept before them were carried into the chain."""

from __future__ import annotations

import importlib
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.certificates.models import Certificate, Job, JobStatus
from apps.certificates.services.renewals import renewal_sweep
from apps.certificates.services.requests import certificate_renew
from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record, audit_verify
from tests.api.conftest import api_client, api_user  # noqa: F401 - fixtures
from tests.audit.admin_forms import admin_change
from tests.conftest import TENANT_A
from tests.factories import TEST_ACTOR, certificate_make

HOST = {"host": TENANT_A["domain"]}
VIA_API, VIA_ADMIN = "api.alpha.test", "admin.alpha.test"
MIGRATION = "0006_key_downloads_to_audit_events"


@pytest.fixture
def api(tenant_a, api_client):  # noqa: F811 - the fixture imported above
    return api_client(tenant_a, "admin")


@pytest.fixture
def twins(tenant_a) -> dict[str, Certificate]:
    """Two certificates alike (issued, same accounts): one changed through the API, one in the admin."""
    with tenant_context(tenant_a):
        return {"api": certificate_make(VIA_API), "admin": certificate_make(VIA_ADMIN)}


def open_jobs(tenant, twins: dict) -> list[Job]:
    with tenant_context(tenant):
        return [certificate_renew(certificate=c, force=True, actor=TEST_ACTOR)[0] for c in twins.values()]


def change_page(certificate: Certificate) -> str:
    return f"/admin/certificates/certificate/{certificate.pk}/change/"


def delete_page(certificate: Certificate) -> str:
    return f"/admin/certificates/certificate/{certificate.pk}/delete/"


def events(tenant, action: str, *certificates: Certificate) -> list[AuditEvent]:
    ids = [str(certificate.pk) for certificate in certificates]
    with tenant_context(tenant):
        rows = AuditEvent.objects.filter(action=action, object_type="certificate", object_id__in=ids)
        return list(rows.order_by("id"))


def row(tenant, certificate: Certificate) -> tuple | None:
    """What the user sees of the certificate's settings; the renewal date relative to expiry."""
    with tenant_context(tenant):
        found = Certificate.objects.select_related("current_version").filter(pk=certificate.pk).first()
    if found is None:
        return None
    due = found.renew_at - found.current_version.not_after
    return (found.key_type, found.auto_renew, found.renew_before_days, found.ca_account_id, found.dns_account_id, due)


def without_names(message: str) -> str:
    return re.sub(r"job \d+ for \S+", "job N for X", message)


def test_a_key_type_change_while_a_job_is_open_is_refused_alike(tenant_a, api, admin, twins):
    open_jobs(tenant_a, twins)
    before = {face: row(tenant_a, certificate) for face, certificate in twins.items()}

    refused = api.patch(f"/api/certificates/{VIA_API}", {"key_type": "rsa2048"}, format="json")
    page = admin_change(admin, change_page(twins["admin"]), HOST, key_type="rsa2048")

    assert refused.status_code == 409 and refused.json()["code"] == "job_open"
    assert page.status_code == 200, "the form comes back with the refusal instead of saving"
    [error] = page.context["adminform"].form.non_field_errors().as_data()
    assert error.code == "job_open"
    assert without_names(error.messages[0]) == without_names(refused.json()["error"])
    assert error.messages[0] in page.content.decode()
    assert {face: row(tenant_a, certificate) for face, certificate in twins.items()} == before
    assert events(tenant_a, "certificate.updated", *twins.values()) == []


@pytest.mark.parametrize(
    ("api_request", "admin_fields", "changes"),
    [
        (("patch", "", {"auto_renew": False}), {"auto_renew": False}, {"auto_renew": [True, False]}),
        (("put", "/auto-renew", {"enabled": False}), {"auto_renew": False}, {"auto_renew": [True, False]}),
        (("patch", "", {"renew_before_days": 20}), {"renew_before_days": "20"}, {"renew_before_days": [None, 20]}),
    ],
    ids=["auto_renew", "certmate-auto-renew", "renew_before_days"],
)
def test_a_renewal_setting_gives_the_same_row_and_event(
    tenant_a, api, admin, twins, api_request, admin_fields, changes
):
    before = row(tenant_a, twins["api"])
    method, suffix, body = api_request

    response = getattr(api, method)(f"/api/certificates/{VIA_API}{suffix}", body, format="json")
    saved = admin_change(admin, change_page(twins["admin"]), HOST, **admin_fields)

    assert response.status_code == 200, response.content
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert row(tenant_a, twins["api"]) == row(tenant_a, twins["admin"]) != before
    [by_api] = events(tenant_a, "certificate.updated", twins["api"])
    [by_admin] = events(tenant_a, "certificate.updated", twins["admin"])
    assert (by_api.channel, by_admin.channel) == ("api", "admin")
    assert (by_api.actor_name, by_admin.actor_name) == (api.user.email, TENANT_A["admin_email"])
    assert (by_api.object_name, by_admin.object_name) == (VIA_API, VIA_ADMIN)
    assert by_api.changes == by_admin.changes == changes


def test_a_delete_is_refused_alike_while_a_job_is_open_then_done_alike(tenant_a, api, admin, twins):
    jobs = open_jobs(tenant_a, twins)
    busy = api.delete(f"/api/certificates/{VIA_API}")
    refused = admin.post(delete_page(twins["admin"]), {"post": "yes"}, headers=HOST, follow=True)
    assert busy.status_code == 409 and busy.json()["code"] == "job_open"
    assert "delete it once it has finished" in refused.content.decode()
    assert None not in (row(tenant_a, twins["api"]), row(tenant_a, twins["admin"]))
    assert events(tenant_a, "certificate.deleted", *twins.values()) == []

    with tenant_context(tenant_a):
        Job.objects.filter(pk__in=[job.pk for job in jobs]).update(status=JobStatus.FAILED)
    assert api.delete(f"/api/certificates/{VIA_API}").status_code == 200
    assert admin.post(delete_page(twins["admin"]), {"post": "yes"}, headers=HOST).status_code == 302

    assert row(tenant_a, twins["api"]) is None and row(tenant_a, twins["admin"]) is None
    [by_api] = events(tenant_a, "certificate.deleted", twins["api"])
    [by_admin] = events(tenant_a, "certificate.deleted", twins["admin"])
    assert (by_api.channel, by_admin.channel) == ("api", "admin")
    assert by_api.changes == by_admin.changes
    assert by_api.changes["auto_renew"] == [True, None] and by_api.changes["ca_account"] == ["le", None]


def test_renew_now_is_the_same_request_from_either_face(tenant_a, api, admin, twins):
    assert api.post(f"/api/certificates/{VIA_API}/renew", {"force": True}, format="json").status_code == 202
    action = {"action": "renew_now", "_selected_action": [twins["admin"].pk]}
    admin.post("/admin/certificates/certificate/", action, headers=HOST)

    [by_api] = events(tenant_a, "certificate.renewal_requested", twins["api"])
    [by_admin] = events(tenant_a, "certificate.renewal_requested", twins["admin"])
    assert (by_api.channel, by_admin.channel) == ("api", "admin")
    assert by_api.changes["forced"] is by_admin.changes["forced"] is True
    with tenant_context(tenant_a):
        for event in (by_api, by_admin):
            job = Job.objects.get(pk=event.changes["job"])
            assert (job.operation, job.status, job.requested_by.email) == ("renew", "queued", event.actor_name)
    # Asking again while that job is open joins it: no second job, nothing more recorded.
    assert api.post(f"/api/certificates/{VIA_API}/renew", {"force": True}, format="json").status_code == 202
    assert len(events(tenant_a, "certificate.renewal_requested", twins["api"])) == 1


def test_the_command_line_and_the_sweep_are_recorded_as_themselves(tenant_a, twins):
    call_command("certificate", "renew", "--tenant", "alpha", VIA_API, "--force", stdout=io.StringIO())
    with tenant_context(tenant_a):
        Certificate.objects.filter(pk=twins["admin"].pk).update(renew_at=timezone.now() - timedelta(hours=1))
        assert renewal_sweep(jitter_seconds=0).queued == 1

    [by_command] = events(tenant_a, "certificate.renewal_requested", twins["api"])
    [by_sweep] = events(tenant_a, "certificate.renewal_requested", twins["admin"])
    assert (by_command.channel, by_command.actor_type, by_command.actor_name) == (
        "command", "system", "manage.py certificate",
    )  # fmt: skip
    assert (by_sweep.channel, by_sweep.actor_type, by_sweep.actor_name) == ("system", "system", "renewal sweep")
    assert (by_command.changes["forced"], by_sweep.changes["forced"]) == (True, False)
    with tenant_context(tenant_a):
        assert not Job.objects.filter(
            pk__in=[by_command.changes["job"], by_sweep.changes["job"]], requested_by__isnull=False
        ).exists()


def test_a_private_key_download_is_an_audit_event_and_a_public_one_is_not(tenant_a, api_client):  # noqa: F811
    operator = api_client(tenant_a, "operator")
    with tenant_context(tenant_a):
        certificate = certificate_make("www.alpha.test")
    url = "/api/certificates/www.alpha.test/download"

    for query in ("?file=fullchain.pem", "?include_private=false"):
        assert operator.get(url + query, REMOTE_ADDR="198.51.100.4").status_code == 200
    assert events(tenant_a, "private_key.downloaded", certificate) == []

    key = operator.get(url + "?file=privkey.pem&key_format=pkcs8", REMOTE_ADDR="198.51.100.4")
    assert key.status_code == 200 and key.content.startswith(b"-----BEGIN PRIVATE KEY-----")
    [event] = events(tenant_a, "private_key.downloaded", certificate)
    assert (event.token_prefix, event.ip_address) == (operator.token.prefix, "198.51.100.4")
    assert (event.actor_id, event.actor_name, event.channel) == (operator.user.pk, operator.user.email, "api")
    assert event.object_name == "www.alpha.test"
    assert event.changes == {"version": 1, "format": "privkey.pem", "key_format": "pkcs8", "token_created_by": ""}
    with tenant_context(tenant_a):
        # A record nobody edits or removes, in the admin or anywhere else.
        for statement in (
            "UPDATE audit_auditevent SET actor_name = 'someone else' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
                c.execute(statement, [event.pk])
        assert audit_verify().ok


def test_old_key_download_records_are_carried_into_the_chain(tenant_a):
    migration = importlib.import_module(f"apps.certificates.migrations.{MIGRATION}")
    assert ("audit", "0001_initial") in migration.Migration.dependencies
    with tenant_context(tenant_a):
        state = MigrationLoader(connection).project_state(("certificates", MIGRATION))
        KeyDownload = state.apps.get_model("certificates", "KeyDownload")
        with connection.schema_editor() as editor:
            editor.create_model(KeyDownload)  # the table as it was, before the next migration drops it
        certificate = certificate_make("old.alpha.test")
        already = audit_record(actor=TEST_ACTOR, action="thing.happened", object_type="thing")
        admin = User.objects.get(email=TENANT_A["admin_email"])
        kept = KeyDownload.objects.create(
            certificate_id=certificate.pk, version_id=certificate.current_version_id, identifier="old.alpha.test",
            version_number=1, format="zip", user_id=admin.pk, user_email=admin.email, token_prefix="cm_abcdefghi",
            ip_address="192.0.2.9",
        )  # fmt: skip
        orphan = KeyDownload.objects.create(
            identifier="gone.alpha.test", version_number=3, format="cert.pfx", key_format="pkcs1",
            user_email="left@alpha.test", token_created_by_email="boss@alpha.test",
        )  # fmt: skip
        # Made in the other order than their ids: the chain follows when they were made.
        earlier = timezone.now() - timedelta(days=400)
        KeyDownload.objects.filter(pk=orphan.pk).update(created_at=earlier)
        KeyDownload.objects.filter(pk=kept.pk).update(created_at=earlier + timedelta(days=1, microseconds=7))

        with connection.schema_editor() as editor:
            migration.key_downloads_to_audit_events(state.apps, editor)

        gone, old = AuditEvent.objects.filter(pk__gt=already.pk).order_by("id")
        assert (gone.prev_hash, old.prev_hash) == (already.hash, gone.hash)
        assert (gone.created_at, old.created_at) == (earlier, earlier + timedelta(days=1, microseconds=7))
        for event in (gone, old):
            assert (event.action, event.channel, event.actor_type, event.object_type, event.tenant) == (
                "private_key.downloaded", "api", "user", "certificate", "alpha",
            )  # fmt: skip
        assert (old.object_id, old.object_name, old.actor_id, old.actor_name) == (
            str(certificate.pk), "old.alpha.test", admin.pk, admin.email,
        )  # fmt: skip
        assert (old.token_prefix, old.ip_address) == ("cm_abcdefghi", "192.0.2.9")
        assert old.changes == {"version": 1, "format": "zip", "key_format": "", "token_created_by": ""}
        assert (gone.object_id, gone.object_name, gone.actor_id, gone.actor_name, gone.ip_address) == (
            "", "gone.alpha.test", None, "left@alpha.test", "",
        )  # fmt: skip
        assert gone.changes == {
            "version": 3, "format": "cert.pfx", "key_format": "pkcs1", "token_created_by": "boss@alpha.test",
        }  # fmt: skip
        assert audit_verify().ok
        after = audit_record(actor=TEST_ACTOR, action="thing.happened", object_type="thing")
        assert after.prev_hash == old.hash and audit_verify().ok
