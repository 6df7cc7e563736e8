"""/health/live, /health/ready and CertMate's /health, on the platform's host and a tenant's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from certmate import probes
from tests.conftest import PUBLIC_HOST, TENANT_A
from tests.platform.test_health import broker_down  # noqa: F401 - fixture

HOSTS = [PUBLIC_HOST, TENANT_A["domain"]]
READY = {"database": "ok", "broker": "ok", "migrations": "ok", "encryption": "ok"}


@pytest.mark.parametrize("host", HOSTS)
def test_probes_answer_on_every_host(db, client, host):
    assert client.get("/health/live", headers={"host": host}).json() == {"status": "alive"}
    ready = client.get("/health/ready", headers={"host": host})
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": READY}
    health = client.get("/health", headers={"host": host})
    assert health.status_code == 200
    checks = {"database": "ok", "broker": "ok"}
    assert health.json() == {"status": "healthy", "version": probes.version(), "checks": checks}
    assert client.get("/api/health", headers={"host": host}).json()["status"] == "ok"  # today's path still answers


def test_a_broker_down_makes_ready_503_and_health_degraded_but_200(db, client, broker_down):  # noqa: F811
    ready = client.get("/health/ready", headers={"host": TENANT_A["domain"]})
    assert ready.status_code == 503
    body = ready.json()
    assert body["ready"] is False and body["code"] == "not_ready" and body["error"] == "not ready: broker"
    assert body["checks"]["broker"].startswith("down: ") and "6379" not in ready.content.decode()
    health = client.get("/health", headers={"host": TENANT_A["domain"]})
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"


def test_keys_that_cannot_encrypt_make_ready_503(db, client):
    with override_settings(CERTMATE_ENCRYPTION_KEYS=["not-a-fernet-key"]):
        response = client.get("/health/ready", headers={"host": PUBLIC_HOST})
    assert response.status_code == 503
    assert response.json()["checks"]["encryption"] == "down: ImproperlyConfigured"
    assert "not-a-fernet-key" not in response.content.decode()


def test_a_migration_left_to_apply_makes_ready_503(db, client, monkeypatch):
    monkeypatch.setattr(probes, "_migrated", set())
    with connection.cursor() as cursor:  # the public schema forgets its newest migration (rolled back after)
        cursor.execute("DELETE FROM public.django_migrations WHERE id = (SELECT max(id) FROM public.django_migrations)")
    response = client.get("/health/ready", headers={"host": PUBLIC_HOST})
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "down: 1 migrations not applied"
