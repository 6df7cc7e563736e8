"""The AWS Secrets Manager backend against moto_server, which speaks the service's wire protocol:
names, tags and version labels as AWS holds them, credentials explicit or from boto3's default chain,
and the errors an operator sees when AWS refuses or cannot be reached."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import boto3
import pytest

from apps.storage.backends.aws import KEPT_VERSIONS, AwsSecretsManagerBackend
from apps.storage.backends.base import StorageError
from tests.e2e.servers import free_port
from tests.storage.contract import check_contract, sample_bundle
from tests.storage.servers import MotoServer
from tests.tools import missing_tool

pytestmark = pytest.mark.tools

REGION = "eu-west-1"
FAKE_KEYS = {"access_key_id": "testing", "secret_access_key": "testing"}
# What AWS accepts in a secret name.
AWS_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


def aws(
    server: MotoServer, tenant: str = "alpha", *, credentials: dict | None = None, **settings
) -> AwsSecretsManagerBackend:
    return AwsSecretsManagerBackend(
        tenant=tenant,
        settings={"region": REGION, "endpoint_url": server.endpoint_url, **settings},
        credentials=FAKE_KEYS if credentials is None else credentials,
    )


def boto_client(server: MotoServer):
    """Secrets Manager as an operator with the AWS console would see it."""
    return boto3.client("secretsmanager", region_name=REGION, endpoint_url=server.endpoint_url, **_boto_keys(FAKE_KEYS))


def tenant() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def labels_by_version(server: MotoServer, name: str) -> list[list[str]]:
    versions = boto_client(server).list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    return sorted(sorted(version["VersionStages"]) for version in versions)


def test_contract(moto_server):
    check_contract(lambda slug: aws(moto_server, slug))


def test_secret_names_are_valid_for_aws_and_carry_the_tenant_prefix(moto_server):
    slug = tenant()
    backend = aws(moto_server, slug, prefix="acme/certmate")
    backend.store(sample_bundle("*.shop.example.com"))
    backend.store(sample_bundle("Alice Example <alice@example.com>", kind="client"))

    secrets = boto_client(moto_server).list_secrets(Filters=[{"Key": "name", "Values": [f"acme/certmate/{slug}/"]}])
    by_name = {secret["Name"]: secret for secret in secrets["SecretList"]}
    assert set(by_name) == {
        f"acme/certmate/{slug}/server/_2a.shop.example.com",
        f"acme/certmate/{slug}/client/_41lice_20_45xample_20_3calice_40example.com_3e",
    }
    assert all(AWS_NAME.fullmatch(name) for name in by_name)
    tags = {tag["Key"]: tag["Value"] for tag in by_name[f"acme/certmate/{slug}/server/_2a.shop.example.com"]["Tags"]}
    assert tags == {"certmate-tenant": slug, "certmate-kind": "server", "certmate-identifier": "*.shop.example.com"}

    stored = boto_client(moto_server).get_secret_value(SecretId=f"acme/certmate/{slug}/server/_2a.shop.example.com")
    assert json.loads(stored["SecretString"]) == sample_bundle("*.shop.example.com").files()


def test_each_version_carries_its_own_label(moto_server):
    backend = aws(moto_server, tenant())
    v1, v2 = sample_bundle("www.example.com", 1), sample_bundle("www.example.com", 2)
    backend.store(v1)
    backend.store(v2)
    backend.store(v2)  # the same again adds no version

    assert backend.read("server", "www.example.com", version=1) == v1
    assert backend.read("server", "www.example.com") == v2
    assert labels_by_version(moto_server, backend._name("server", "www.example.com")) == [
        ["AWSCURRENT", "v2"],
        ["AWSPREVIOUS", "v1"],
    ]


def test_a_store_that_stopped_before_labelling_is_completed_by_the_next(moto_server):
    backend = aws(moto_server, tenant())
    bundle = sample_bundle("half.example.com", 1)
    name = backend._name("server", "half.example.com")
    boto_client(moto_server).create_secret(Name=name, SecretString=json.dumps(bundle.files()))
    assert backend.read("server", "half.example.com", version=1) is None

    backend.store(bundle)
    assert backend.read("server", "half.example.com", version=1) == bundle
    assert labels_by_version(moto_server, name) == [["AWSCURRENT", "v1"]]


def test_only_the_newest_versions_keep_their_labels(moto_server):
    """AWS allows 20 staging labels per secret; an older version loses its label and AWS deletes it."""
    backend = aws(moto_server, tenant())
    last = KEPT_VERSIONS + 3
    for version in range(1, last + 1):
        backend.store(sample_bundle("busy.example.com", version))

    labels = [
        label
        for stages in labels_by_version(moto_server, backend._name("server", "busy.example.com"))
        for label in stages
    ]
    assert sorted(label for label in labels if label.startswith("v")) == sorted(
        f"v{version}" for version in range(last - KEPT_VERSIONS + 1, last + 1)
    )
    assert backend.read("server", "busy.example.com", version=last - KEPT_VERSIONS) is None
    assert backend.read("server", "busy.example.com", version=last - KEPT_VERSIONS + 1) is not None
    assert backend.read("server", "busy.example.com") == sample_bundle("busy.example.com", last)


def test_another_region_holds_other_secrets(moto_server):
    slug = tenant()
    aws(moto_server, slug).store(sample_bundle("www.example.com"))
    elsewhere = aws(moto_server, slug, region="us-east-2")
    assert elsewhere.read("server", "www.example.com") is None
    assert elsewhere.list() == []


def test_unreachable_endpoint_is_transient():
    endpoint = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    backend = AwsSecretsManagerBackend(
        tenant="alpha", settings={"region": REGION, "endpoint_url": endpoint}, credentials=FAKE_KEYS
    )
    started = time.monotonic()
    with pytest.raises(StorageError) as unreachable:
        backend.test_connection()
    assert unreachable.value.transient is True
    assert endpoint in unreachable.value.reason and REGION in unreachable.value.reason
    assert time.monotonic() - started < 15  # a few quick retries, not a hang


def test_half_a_key_is_refused_before_any_call(moto_server):
    with pytest.raises(StorageError, match="both access_key_id and secret_access_key") as refused:
        aws(moto_server, credentials={"access_key_id": "AKIAEXAMPLE"})
    assert refused.value.transient is False


# --- credentials: a moto_server of this module's own checks signatures against its IAM users ---


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[tuple[MotoServer, dict[str, dict[str, str]]]]:
    """A moto_server with IAM users "writer" (may use Secrets Manager) and "nobody" (may not), then
    authentication switched on. Its own server: switching auth on is global to a server."""
    reason = MotoServer.missing_reason()
    if reason:
        missing_tool(reason)
    with MotoServer() as server:
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=server.endpoint_url, **_boto_keys(FAKE_KEYS))
        allow = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
        }
        keys = {}
        for user in ("writer", "nobody"):
            iam.create_user(UserName=user)
            if user == "writer":
                iam.put_user_policy(UserName=user, PolicyName="certmate", PolicyDocument=json.dumps(allow))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
        server.require_auth()
        yield server, keys


def _boto_keys(credentials: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["access_key_id"],
        "aws_secret_access_key": credentials["secret_access_key"],
    }


@pytest.fixture
def chain_env(monkeypatch, tmp_path):
    """boto3's default chain confined to the environment: no profile files, no instance metadata call."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def test_writer_with_its_own_key_passes_the_contract(iam_moto):
    server, keys = iam_moto
    check_contract(lambda slug: aws(server, slug, credentials=keys["writer"]))


def test_empty_credentials_use_the_default_chain(iam_moto, chain_env):
    server, keys = iam_moto
    chain_env.setenv("AWS_ACCESS_KEY_ID", keys["writer"]["access_key_id"])
    chain_env.setenv("AWS_SECRET_ACCESS_KEY", keys["writer"]["secret_access_key"])
    backend = aws(server, tenant(), credentials={})
    backend.test_connection()
    backend.store(sample_bundle("chain.example.com"))
    assert backend.read("server", "chain.example.com") == sample_bundle("chain.example.com")


def test_no_credentials_anywhere_is_permanent(iam_moto, chain_env):
    server, _keys = iam_moto
    with pytest.raises(StorageError, match="no AWS credentials") as refused:
        aws(server, credentials={}).test_connection()
    assert refused.value.transient is False


@pytest.mark.parametrize("who", ["unknown-key", "wrong-secret", "no-policy"])
def test_refused_credentials_are_permanent_and_never_echoed(iam_moto, who):
    server, keys = iam_moto
    credentials = {
        "unknown-key": {"access_key_id": "AKIA" + uuid.uuid4().hex[:16].upper(), "secret_access_key": "s" * 40},
        "wrong-secret": {"access_key_id": keys["writer"]["access_key_id"], "secret_access_key": "w" * 40},
        "no-policy": keys["nobody"],
    }[who]
    backend = aws(server, credentials=credentials)
    for attempt in (backend.test_connection, lambda: backend.read("server", "www.example.com")):
        with pytest.raises(StorageError) as refused:
            attempt()
        assert refused.value.transient is False
        assert "check the access key and its IAM policy" in refused.value.reason
        for secret in credentials.values():
            assert secret not in refused.value.reason
