import pytest

from certmate.celery import app as celery_app
from tests.conftest import PUBLIC_HOST, TENANT_A


@pytest.mark.parametrize(("host", "tenant"), [(PUBLIC_HOST, "public"), (TENANT_A["domain"], "alpha")])
def test_health_is_ok_on_every_host(db, client, host, tenant):
    response = client.get("/api/health", headers={"host": host})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "tenant": tenant}


@pytest.fixture
def broker_down():
    # Nothing listens on port 9 of loopback: the broker is unreachable.
    saved = {key: celery_app.conf.get(key) for key in ("broker_url", "broker_transport_options")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_transport_options={})
    yield
    celery_app.conf.update(saved)


def test_health_names_the_broker_when_it_is_down(db, client, broker_down):
    response = client.get("/api/health", headers={"host": TENANT_A["domain"]})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down: ")
    assert body["error"] == "unreachable: broker"
