"""A private CA's certificates reach the tenant's storage target through their issued event: client
certificates under <tenant>/client/<name>/, with ca.pem beside the usual files; one signed from a CSR
without any privkey.pem (its key stayed with the requester). On the local filesystem and on a real
Vault-API server (OpenBao)."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import hvac
import pytest
from django_tenants.utils import tenant_context

from apps.storage.bundles import version_bundle
from apps.storage.services import storage_backend, storage_config_active, storage_config_set
from certmate.celery import app as celery_app
from tests.factories import TEST_ACTOR, certificate_make
from tests.pki.conftest import hierarchy_a, hierarchy_b, openssl  # noqa: F401 - fixtures
from tests.private_issued import csr_make, private_issue
from tests.storage.fakes import FakeInfisical, FakeKeyVault
from tests.storage.test_aws import aws as aws_backend
from tests.storage.test_azure import make as azure_backend
from tests.storage.test_infisical import make as infisical_backend

USUAL = ["cert.pem", "chain.pem", "fullchain.pem", "metadata.json"]


@pytest.fixture
def root(tmp_path, settings, monkeypatch) -> Path:
    """Published material in a folder of the test's own; what is sent to Celery runs here and now."""
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return settings.CERTMATE_STORAGE_ROOT


def issue_published(tenant, capture, **request):
    """Issue through the service and deliver its events (the storage consumer publishes) at commit."""
    with capture(execute=True):
        certificate = private_issue(tenant, **request)
    with tenant_context(tenant):
        version = certificate.versions.select_related("authority").get(number=1)
        return version, version.authority.certificate_pem + version.authority.chain_pem


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("hierarchy_a")
def test_a_client_certificate_is_published_under_client_with_ca_pem(tenant_a, root, django_capture_on_commit_callbacks):
    version, ca_pem = issue_published(
        tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="client", name="alice-laptop"
    )
    folder = root / "alpha" / "client" / "alice-laptop"
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted([*USUAL, "ca.pem", "privkey.pem"])
    assert not (root / "alpha" / "server").exists()
    assert (folder / "cert.pem").read_text() == version.certificate_pem
    assert (folder / "fullchain.pem").read_text() == version.fullchain_pem
    assert (folder / "privkey.pem").read_text() == version.private_key
    assert (folder / "ca.pem").read_text() == ca_pem
    assert mode(folder / "privkey.pem") == 0o600 and mode(folder / "archive" / "privkey1.pem") == 0o600
    assert mode(folder / "ca.pem") == 0o644 and (folder / "archive" / "ca1.pem").read_text() == ca_pem
    # What a server checking client certificates does with the published files: trust ca.pem.
    verified = openssl("verify", "-CAfile", str(folder / "ca.pem"), "-purpose", "sslclient", str(folder / "cert.pem"))
    assert verified.stdout.strip().endswith("OK")
    metadata = json.loads((folder / "metadata.json").read_text())
    assert (metadata["kind"], metadata["identifier"], metadata["issuing_ca"]) == ("client", "alice-laptop", "alpha")
    assert metadata["private_key_included"] is True and metadata["certificate_type"] == "Private"
    assert metadata["files"] == ["ca.pem", "cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"]


@pytest.mark.usefixtures("hierarchy_a")
def test_a_csr_signed_certificate_is_published_without_a_key_file(tenant_a, root, django_capture_on_commit_callbacks):
    csr, _ = csr_make("bob-phone")
    version, ca_pem = issue_published(
        tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="client", name="bob-phone", csr_pem=csr
    )
    folder = root / "alpha" / "client" / "bob-phone"
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted([*USUAL, "ca.pem"])
    assert not any(p.name.startswith("privkey") for p in (folder / "archive").iterdir())
    assert (folder / "cert.pem").read_text() == version.certificate_pem and (folder / "ca.pem").read_text() == ca_pem
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["private_key_included"] is False and "privkey.pem" not in metadata["files"]
    with tenant_context(tenant_a):
        backend = storage_backend(storage_config_active())
        stored = backend.read("client", "bob-phone")  # reads back whole: no key is not a damaged set
        assert stored is not None and stored.privkey_pem == "" and stored.ca_pem == ca_pem
        assert backend.read("client", "bob-phone", version=1) == stored
        assert {(item.kind, item.identifier) for item in backend.list()} == {("client", "bob-phone")}


@pytest.mark.usefixtures("hierarchy_a")
def test_a_private_server_certificate_stays_under_server_with_ca_pem_and_acme_has_none(
    tenant_a, root, django_capture_on_commit_callbacks
):
    server = {"kind": "server", "name": "db.alpha.internal", "alt_names": ["DNS:db.alpha.internal"]}
    _, ca_pem = issue_published(tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="server", **server)
    assert (root / "alpha" / "server" / "db.alpha.internal" / "ca.pem").read_text() == ca_pem
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=True):
        certificate_make("www.alpha.test")
    acme = root / "alpha" / "server" / "www.alpha.test"
    assert sorted(p.name for p in acme.iterdir() if p.is_file()) == sorted([*USUAL, "privkey.pem"])


@pytest.mark.usefixtures("hierarchy_a", "hierarchy_b")
def test_two_tenants_publish_apart(tenant_a, tenant_b, root, django_capture_on_commit_callbacks):
    _, ca_a = issue_published(tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="client", name="dev-1")
    _, ca_b = issue_published(tenant_b, django_capture_on_commit_callbacks, ca="beta", profile="client", name="dev-1")
    assert (root / "alpha" / "client" / "dev-1" / "ca.pem").read_text() == ca_a
    assert (root / "beta" / "client" / "dev-1" / "ca.pem").read_text() == ca_b
    assert ca_a != ca_b


@pytest.mark.tools
@pytest.mark.usefixtures("hierarchy_a")
def test_on_vault_the_secret_holds_ca_pem_and_no_key_for_a_csr(
    tenant_a, bao, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    prefix = f"p{uuid.uuid4().hex[:8]}"
    with tenant_context(tenant_a):
        storage_config_set(
            backend="hashicorp_vault",
            settings={"url": bao.url, "path_prefix": prefix},
            credentials={"token": bao.root_token},
            actor=TEST_ACTOR,
        )
    csr, _ = csr_make("carol-tablet")
    keyed, ca_pem = issue_published(
        tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="client", name="carol-laptop"
    )
    keyless, _ = issue_published(
        tenant_a, django_capture_on_commit_callbacks, ca="alpha", profile="client", name="carol-tablet", csr_pem=csr
    )
    vault = hvac.Client(url=bao.url, token=bao.root_token)

    def secret(name: str) -> dict:
        answer = vault.secrets.kv.v2.read_secret_version(f"{prefix}/alpha/client/{name}", raise_on_deleted_version=True)
        return answer["data"]["data"]

    with_key = secret("carol-laptop")
    assert sorted(with_key) == sorted([*USUAL, "ca.pem", "privkey.pem"])
    assert with_key["ca.pem"] == ca_pem and with_key["privkey.pem"] == keyed.private_key
    without_key = secret("carol-tablet")
    assert sorted(without_key) == sorted([*USUAL, "ca.pem"])
    assert without_key["cert.pem"] == keyless.certificate_pem
    with tenant_context(tenant_a):
        stored = storage_backend(storage_config_active()).read("client", "carol-tablet")
    assert stored is not None and stored.privkey_pem == "" and stored.version == 1


@pytest.fixture(params=["aws", "azure", "infisical"])
def other_backend(request, monkeypatch):
    """A backend of each remaining kind, against moto_server or the wire-level fakes the storage tests use."""
    slug = f"t{uuid.uuid4().hex[:8]}"
    if request.param == "aws":
        server = request.getfixturevalue("moto_server")
        yield aws_backend(server, slug)
        return
    if request.param == "azure":
        with FakeKeyVault() as fake:
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_path))
            yield azure_backend(fake, slug)
        return
    with FakeInfisical() as fake:
        yield infisical_backend(fake, slug)


@pytest.mark.tools
@pytest.mark.usefixtures("hierarchy_a")
def test_every_secret_store_keeps_ca_pem_and_a_keyless_bundle(tenant_a, other_backend):
    csr, _ = csr_make("erin-phone")
    keyed = private_issue(tenant_a, ca="alpha", profile="client", name="erin-laptop")
    keyless = private_issue(tenant_a, ca="alpha", profile="client", name="erin-phone", csr_pem=csr)
    with tenant_context(tenant_a):
        bundles = [version_bundle(certificate.versions.get(number=1)) for certificate in (keyed, keyless)]
    for bundle in bundles:
        other_backend.store(bundle)
        assert other_backend.read("client", bundle.identifier) == bundle
    assert bundles[0].ca_pem and "ca.pem" in bundles[0].files() and "privkey.pem" in bundles[0].files()
    assert "ca.pem" in bundles[1].files() and "privkey.pem" not in bundles[1].files()
    assert {(item.kind, item.identifier) for item in other_backend.list()} == {
        ("client", "erin-laptop"),
        ("client", "erin-phone"),
    }
