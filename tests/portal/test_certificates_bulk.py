"""Bulk actions from the list: a confirmation page first (nothing changes before it), then each row
through its service with its own result (a refusal is that row's, in the service's words), and the
download as one ZIP of public files."""

from __future__ import annotations

import io
import zipfile

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateVersion, Job
from tests.factories import certificate_make
from tests.portal.certificates_helpers import events, private_certificate


@pytest.fixture
def rows(tenant_a):
    private = private_certificate(tenant_a)
    with tenant_context(tenant_a):
        return {
            "acme": certificate_make("www.example.com"),
            "private": private,
            "pending": certificate_make("pending.example.com", versions=0),
        }


def _bulk(client, action: str, certificates, confirm: bool = True, **extra):
    data = {"action": action, "ids": [str(c.pk) for c in certificates], **extra}
    if confirm:
        data["confirm"] = "1"
    return client.post("/certificates/bulk/", data)


def _results(response) -> dict[str, tuple[bool, str]]:
    return {result.certificate.identifier: (result.ok, result.message) for result in response.context["results"]}


def test_a_bulk_action_asks_to_confirm_first(tenant_a, signed_in, rows):
    client = signed_in(tenant_a, "operator")
    response = _bulk(client, "delete", rows.values(), confirm=False)
    page = response.content.decode()
    assert response.status_code == 200 and "Delete: please confirm" in page
    for certificate in rows.values():
        assert f'name="ids" value="{certificate.pk}"' in page and certificate.identifier in page
    assert 'name="confirm"' in page
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 3  # nothing gone yet
    assert "results" not in response.context


def test_auto_renew_off_reports_each_row(tenant_a, signed_in, rows):
    response = _bulk(signed_in(tenant_a, "operator"), "auto_renew_off", rows.values())
    assert _results(response) == {name: (True, "auto-renew off") for name in
                                  ("www.example.com", "alice-laptop", "pending.example.com")}  # fmt: skip
    with tenant_context(tenant_a):
        assert not Certificate.objects.filter(auto_renew=True).exists()
    assert {event.channel for event in events(tenant_a, "certificate.updated")} == {"portal"}


def test_revoke_with_a_hold_takes_the_private_one_and_refuses_the_others_in_their_words(tenant_a, signed_in, rows):
    response = _bulk(signed_in(tenant_a, "operator"), "revoke", rows.values(), reason="certificatehold")
    results = _results(response)
    assert results["alice-laptop"] == (True, "revoked (certificatehold)")
    assert results["www.example.com"][0] is False
    assert "takes neither a hold nor an invalidity date" in results["www.example.com"][1]
    assert results["pending.example.com"] == (False, "pending.example.com has no such version to revoke")
    page = response.content.decode()
    assert page.count('data-result="ok"') == 1 and page.count('data-result="refused"') == 2
    with tenant_context(tenant_a):
        assert CertificateVersion.objects.get(pk=rows["private"].current_version_id).revoked_at
        assert not CertificateVersion.objects.get(pk=rows["acme"].current_version_id).revoked_at


def test_renew_queues_a_job_each_and_delete_refuses_a_certificate_with_an_open_job(
    tenant_a, signed_in, rows, django_capture_on_commit_callbacks
):
    client = signed_in(tenant_a, "operator")
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        renewed = _results(_bulk(client, "renew", [rows["acme"]]))
    with tenant_context(tenant_a):
        job = Job.objects.get(certificate=rows["acme"], status="queued")
    assert renewed == {"www.example.com": (True, f"renewal job {job.pk} queued")} and len(dispatched) == 1
    deleted = _results(_bulk(client, "delete", rows.values()))
    assert deleted["www.example.com"] == (False, f"job {job.pk} for www.example.com is queued: delete it once it "
                                                 "has finished")  # fmt: skip
    assert deleted["alice-laptop"] == (True, "deleted") and deleted["pending.example.com"] == (True, "deleted")
    with tenant_context(tenant_a):
        assert list(Certificate.objects.values_list("identifier", flat=True)) == ["www.example.com"]


def test_download_is_one_zip_of_public_files_naming_what_was_left_out(tenant_a, signed_in, rows):
    response = _bulk(signed_in(tenant_a, "operator"), "download", rows.values())
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"server/www.example.com/cert.pem", "server/www.example.com/fullchain.pem",
            "client/alice-laptop/chain.pem", "README.txt"} <= names  # fmt: skip
    assert not any("privkey" in name for name in names)
    readme = archive.read("README.txt").decode()
    assert "2 certificate(s)" in readme and "pending.example.com" in readme
    assert archive.read("server/www.example.com/cert.pem").decode() == rows["acme"].current_version.certificate_pem
    assert events(tenant_a, "private_key.downloaded") == []


@pytest.mark.parametrize(
    "data",
    [{"action": "explode", "ids": ["1"]}, {"action": "delete"}, {"action": "delete", "ids": ["x"]},
     {"action": "delete", "ids": [str(n) for n in range(101)]}, {"action": "delete", "ids": ["9" * 40]}],
)  # fmt: skip
def test_a_hostile_bulk_post_is_a_400(tenant_a, signed_in, rows, data):
    response = signed_in(tenant_a, "operator").post("/certificates/bulk/", {**data, "confirm": "1"})
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 3


def test_the_bulk_page_answers_post_only(tenant_a, signed_in):
    assert signed_in(tenant_a, "operator").get("/certificates/bulk/").status_code == 405
