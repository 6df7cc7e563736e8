"""POST /api/certificates/batch, then polling: roles, 202 with a Location, the job's per-row results,
CSV uploads, the idempotency key, two tenants."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate
from certmate.celery import app as celery_app
from tests.pki import conftest as pki

pytestmark = pytest.mark.django_db
hierarchy_a, hierarchy_b = pki.hierarchy_a, pki.hierarchy_b  # tenant A's CA "alpha", tenant B's "beta"

BATCH = "/api/certificates/batch"
ROWS = [{"common_name": "alice", "san": "email:alice@alpha.test", "name": "alice"}, {"common_name": "x", "name": "a/b"}]


@pytest.fixture
def run_jobs(monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks):
    """What a request sends to Celery runs when its transaction commits, here (eager)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"

    def post(client, path, data, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data, **options)

    return post


def test_an_operator_submits_and_polls_a_batch(tenant_a, hierarchy_a, api_client, run_jobs):
    client = api_client(tenant_a, "operator")
    answer = run_jobs(client, BATCH, {"authority": "alpha", "idempotency_key": "k-1", "rows": ROWS}, format="json")
    assert answer.status_code == 202, answer.json()
    assert answer["Location"] == f"/api/certificates/batches/{answer.json()['id']}" == answer.json()["status_url"]
    assert answer.json()["total"] == 2 and answer.json()["requested_by"] == client.user.email
    polled = client.get(answer["Location"]).json()
    assert (polled["status"], polled["done"], polled["succeeded"], polled["failed"]) == ("failed-partially", 2, 1, 1)
    assert polled["results"][0] == {"row": 1, "identifier": "alice", "status": "issued", "error": None, "code": None}
    assert polled["results"][1]["status"] == "failed" and "letter or digit" in polled["results"][1]["error"]
    listed = client.get("/api/certificates/batches").json()
    assert listed["count"] == 1 and "results" not in listed["batches"][0]
    with tenant_context(tenant_a):
        assert Certificate.objects.get(identifier="alice").jobs.get().requested_by == client.user


def test_the_same_key_again_answers_the_same_batch_and_other_rows_conflict(tenant_a, hierarchy_a, api_client, run_jobs):
    client = api_client(tenant_a, "operator")
    body = {"authority": "alpha", "idempotency_key": "k-2", "rows": ROWS}
    first = run_jobs(client, BATCH, body, format="json")
    again = run_jobs(client, BATCH, body, format="json")
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(identifier="alice").count() == 1
    conflict = client.post(BATCH, {**body, "rows": ROWS[:1]}, format="json")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")


def test_a_csv_upload(tenant_a, hierarchy_a, api_client, run_jobs, tmp_path):
    client = api_client(tenant_a, "operator")
    (tmp_path / "rows.csv").write_text("common_name,san,profile\ncarol,email:carol@alpha.test,client\ndan,,staff\n")
    with open(tmp_path / "rows.csv", "rb") as upload:
        answer = run_jobs(client, BATCH, {"authority": "alpha", "idempotency_key": "csv", "file": upload},
                          format="multipart")  # fmt: skip
    assert answer.status_code == 202, answer.json()
    results = client.get(answer["Location"]).json()["results"]
    assert results[0]["status"] == "issued"
    assert results[1]["error"] == "CA 'alpha' has no profile 'staff'"
    (tmp_path / "bad.csv").write_text("common_name,days\nerin,30\nfrank,soon\n")
    with open(tmp_path / "bad.csv", "rb") as upload:
        bad = client.post(BATCH, {"authority": "alpha", "idempotency_key": "bad", "file": upload}, format="multipart")
    assert bad.status_code == 400 and "line 3: days must be a whole number" in bad.json()["error"]
    (tmp_path / "huge.csv").write_bytes(b"common_name\n" + b"x" * (7 * 1024 * 1024))
    with open(tmp_path / "huge.csv", "rb") as upload:
        huge = client.post(BATCH, {"authority": "alpha", "idempotency_key": "huge", "file": upload}, format="multipart")
    assert huge.status_code == 400 and "larger than" in huge.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"authority": "nope", "idempotency_key": "k", "rows": ROWS}, 400, "no CA of that name"),
        ({"authority": "alpha", "idempotency_key": "bad key!", "rows": ROWS}, 400, "letters, digits"),
        ({"authority": "alpha", "idempotency_key": "k", "rows": [{"colour": "red"}]}, 400, "row 1: unknown columns"),
        ({"authority": "alpha", "idempotency_key": "k"}, 400, "give the rows"),
        ({"authority": "alpha-root", "idempotency_key": "k", "rows": ROWS}, 400, "issues no certificates"),
    ],
)
def test_bad_batches_are_refused_with_4xx(tenant_a, hierarchy_a, api_client, body, status, text):
    answer = api_client(tenant_a, "operator").post(BATCH, body, format="json")
    assert answer.status_code == status and text in answer.json()["error"], answer.json()


def test_roles_and_tenants(tenant_a, tenant_b, hierarchy_a, hierarchy_b, api_client, anon_client, run_jobs):
    operator = api_client(tenant_a, "operator")
    batch = run_jobs(operator, BATCH, {"authority": "alpha", "idempotency_key": "k", "rows": ROWS}, format="json")
    viewer = api_client(tenant_a, "viewer")
    refused = viewer.post(BATCH, {"authority": "alpha", "idempotency_key": "v", "rows": ROWS}, format="json")
    assert refused.status_code == 403
    assert viewer.get(batch["Location"]).status_code == 200  # reading, as for jobs
    assert anon_client(tenant_a).get(batch["Location"]).status_code == 401
    other = api_client(tenant_b, "admin")
    assert other.get(batch["Location"]).status_code == 404
    assert other.get("/api/certificates/batches").json()["count"] == 0
    # tenant B cannot issue from tenant A's CA by naming it
    answer = other.post(BATCH, {"authority": "alpha", "idempotency_key": "k", "rows": ROWS}, format="json")
    assert answer.status_code == 400 and "no CA of that name" in answer.json()["error"]
