"""Where the platform lends tenants its own cloud identity, that identity is fetched from where the platform's
environment says (a metadata or container endpoint the egress rule refuses to tenants), while the tenant's own
endpoint stays under the rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.storage.backends.aws import AwsSecretsManagerBackend
from apps.storage.backends.base import StorageError
from tests.egress import LOOPBACK_NAME, Listener, http_reply


@pytest.fixture
def platform_role(monkeypatch, tmp_path):
    """The machine's role, served as a container credentials endpoint on loopback."""
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"AccessKeyId": "AKIAPLATFORM", "SecretAccessKey": "platform-secret", "Token": "t", "Expiration": expires}
    with Listener(http_reply(body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})) as endpoint:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url(path="/credentials"))
        yield endpoint


def lent(endpoint_url: str) -> AwsSecretsManagerBackend:
    return AwsSecretsManagerBackend(
        tenant="alpha", settings={"region": "us-east-1", "endpoint_url": endpoint_url}, credentials={}
    )


def test_the_platforms_role_is_fetched_and_the_tenants_endpoint_still_checked(settings, moto_server, platform_role):
    # The tenant's endpoint is allowed by name only; loopback addresses stay refused to tenants.
    settings.CERTMATE_EGRESS_ALLOW = [LOOPBACK_NAME]
    lent(f"http://{LOOPBACK_NAME}:{moto_server.port}").test_connection()
    assert platform_role.accepted == 1
    with pytest.raises(StorageError, match=r"127\.0\.0\.1 is a loopback address"):
        lent(platform_role.url()).test_connection()
    assert platform_role.accepted == 1
