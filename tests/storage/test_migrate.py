"""`storage migrate`: copy everything, check it arrived, then switch; a failure switches nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.storage.backends.local import LocalFilesystemBackend
from apps.storage.backends.vault import VaultBackend
from apps.storage.bundles import version_bundle
from apps.storage.models import Publication, PublicationState
from apps.storage.services import publication_publish, publication_request, storage_config_active
from certmate.actors import Actor
from tests.factories import issued_version
from tests.storage.servers import MotoServer
from tests.tools import missing_tool

ACTOR = Actor.system("tests")


@pytest.fixture
def published(tenant_a, tmp_path, settings, django_capture_on_commit_callbacks):
    """Three certificates of tenant alpha published to the local filesystem."""
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=False):
        versions = [issued_version(name) for name in ("*.mig.alpha.test", "api.mig.alpha.test", "db.mig.alpha.test")]
        versions.append(issued_version("api.mig.alpha.test"))  # a renewal: v2 is the one to move
        for version in versions:
            publication_publish(publication_id=publication_request(version=version).pk)
        return {v.certificate.identifier: version_bundle(v) for v in versions}


def credentials_file(tmp_path, credentials: dict) -> str:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(credentials))
    return str(path)


def migrate(*argv) -> str:
    out = StringIO()
    call_command("storage", "migrate", "--tenant", "alpha", *argv, stdout=out, stderr=out)
    return out.getvalue()


def test_migrate_to_vault_moves_everything_then_switches(tenant_a, published, bao, tmp_path):
    vault = {"url": bao.url, "mount": "secret", "kv_version": 2, "path_prefix": "migrated"}
    argv = ["--to", "hashicorp_vault", "--credentials-file", credentials_file(tmp_path, {"token": bao.root_token})]
    argv += [f"--setting={k}={v}" for k, v in vault.items()]
    out = migrate(*argv)
    assert "alpha: 3 copied, 3 verified, switched from Local filesystem" in out
    target = VaultBackend(tenant="alpha", settings=vault, credentials={"token": bao.root_token})
    for identifier, bundle in published.items():
        assert target.read("server", identifier) == bundle
    assert (
        LocalFilesystemBackend(tenant="alpha", settings={}, credentials={}).read("server", "api.mig.alpha.test")
        == published["api.mig.alpha.test"]
    )  # left where it was: nothing removed unless asked
    with tenant_context(tenant_a):
        active = storage_config_active()
        assert active.backend == "hashicorp_vault" and active.settings["path_prefix"] == "migrated"
        states = set(Publication.objects.filter(target=active).values_list("state", flat=True))
        assert states == {PublicationState.PUBLISHED}
        assert Publication.objects.filter(target=active).count() == 3

    # And back, removing what was moved from Vault this time.
    back = migrate("--to", "local_filesystem", "--remove-old")
    assert "3 copied, 3 verified" in back and "3 removed from the old target" in back
    assert target.list() == []
    with tenant_context(tenant_a):
        assert storage_config_active().backend == "local_filesystem"


def test_migrating_to_where_the_tenant_already_is_is_refused(tenant_a, published):
    with pytest.raises(CommandError, match="already publishes"):
        migrate("--to", "local_filesystem")


@pytest.fixture
def flaky_aws():
    """A moto_server of this test's own that starts refusing requests part-way through."""
    reason = MotoServer.missing_reason()
    if reason:
        missing_tool(reason)
    with MotoServer() as server:
        yield server


def test_a_migration_where_items_do_not_arrive_switches_nothing(tenant_a, published, flaky_aws, tmp_path):
    keys = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "wJalrXUtnFEMI-example"}
    argv = ["--to", "aws_secrets_manager", "--setting", "region=eu-west-1"]
    argv += [
        "--setting",
        f"endpoint_url={flaky_aws.endpoint_url}",
        "--credentials-file",
        credentials_file(tmp_path, keys),
    ]
    flaky_aws.require_auth(after_requests=4)  # the connection test and the first copies pass, then refusals
    out = StringIO()
    with pytest.raises(CommandError, match="did not arrive") as failure:
        call_command("storage", "migrate", "--tenant", "alpha", *argv, stdout=out, stderr=out)
    assert "stays on Local filesystem" in str(failure.value)
    assert keys["secret_access_key"] not in out.getvalue() + str(failure.value)
    with tenant_context(tenant_a):
        assert storage_config_active().backend == "local_filesystem"
    local = LocalFilesystemBackend(tenant="alpha", settings={}, credentials={})
    assert {item.identifier for item in local.list()} >= set(published)


def test_moving_onto_the_same_vault_with_other_options_is_refused(tenant_a, bao, tmp_path, settings):
    from django.core.exceptions import ValidationError

    from apps.storage.services import storage_config_set, storage_migrate

    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    place = {"url": bao.url, "mount": "secret"}
    with tenant_context(tenant_a):
        storage_config_set(
            actor=ACTOR, backend="hashicorp_vault", settings=place, credentials={"token": bao.root_token}
        )
        with pytest.raises(ValidationError, match="already publishes"):
            storage_migrate(
                actor=ACTOR,
                backend="hashicorp_vault",
                settings={**place, "url": bao.url + "/", "timeout": 5, "path_prefix": "certmate"},
                credentials={"token": bao.root_token},
                remove_old=True,
            )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--setting", "url"], "write KEY=VALUE"),
        (["--credentials-file", "{missing}"], "No such file"),
        (["--credentials-file", "{list}"], "expected a JSON object"),
        (["--credentials-file", "{broken}"], "Expecting"),
    ],
)
def test_bad_migrate_arguments_are_one_line_errors(tenant_a, tmp_path, argv, message):
    files = {"missing": tmp_path / "nope.json", "list": tmp_path / "list.json", "broken": tmp_path / "broken.json"}
    files["list"].write_text("[]")
    files["broken"].write_text("{token:")
    argv = [arg.format(**{name: str(path) for name, path in files.items()}) for arg in argv]
    with pytest.raises(CommandError, match=message):
        migrate("--to", "hashicorp_vault", *argv)
    with tenant_context(tenant_a):
        assert storage_config_active().backend == "local_filesystem"
