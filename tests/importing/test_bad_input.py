"""Backups, damaged sources and hostile zips: each problem is named in the report, the rest imports."""

from __future__ import annotations

import json
import stat
import struct
import tracemalloc
import zipfile

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.accounts.models import ApiToken
from apps.certificates.models import Certificate, CertificateKind
from apps.importing.report import Outcome
from apps.importing.source import SourceError, source_open
from apps.storage.models import StorageConfig
from tests.api.conftest import tenant_client
from tests.importing.conftest import BACKUP, run_import

pytestmark = pytest.mark.django_db


def _attention(report) -> dict[str, str]:
    return {entry.item: entry.reason for entry in report.by_outcome(Outcome.ATTENTION)}


def test_a_backup_zip_imports_like_the_folder_given_the_secret_key(tenant_a, tokens):
    report = run_import(tenant_a, path=BACKUP, secret_key=tokens["secret_key"])
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(kind=CertificateKind.SERVER).count() == len(tokens["certificates"])
        assert Certificate.objects.get(identifier="alpha.test").versions.count() == 3
    client = tenant_client(tenant_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['api_keys']['dashboard']['token']}")
    assert client.get("/api/certificates").status_code == 200
    with zipfile.ZipFile(BACKUP) as archive:
        assert set(archive.namelist()) - report.covered() == set()


def test_without_the_secret_key_the_report_names_the_tokens_to_reissue(tenant_a):
    report = run_import(tenant_a, path=BACKUP)
    attention = _attention(report)
    assert "not in this source" in attention["CertMate's secret key"]
    named = [item for item, reason in attention.items() if "re-issue" in reason]
    assert any("ci-admin" in item for item in named) and any("api_bearer_token" in item for item in named)
    with tenant_context(tenant_a):
        assert not ApiToken.objects.filter(name__startswith="CertMate").exists()
        assert Certificate.objects.count() > 0  # the rest still imports


def test_damaged_files_are_named_and_the_rest_imports(tenant_a, data_copy):
    alpha = data_copy / "certificates" / "alpha.test" / "archive" / "alpha.test"
    (alpha / "cert2.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    shop = data_copy / "certificates" / "shop.beta.test" / "archive" / "shop.beta.test"
    (shop / "privkey1.pem").write_bytes((alpha / "privkey1.pem").read_bytes())  # a key of another certificate
    (data_copy / "certificates" / "legacy.beta.test" / "metadata.json").write_text("{ broken")
    settings = json.loads((data_copy / "data" / "settings.json").read_text())
    settings["dns_providers"]["madeupdns"] = {"accounts": {"x": {"api_token": "secret-madeup-token"}}}
    (data_copy / "data" / "settings.json").write_text(json.dumps(settings))

    report = run_import(tenant_a, path=data_copy)
    attention = _attention(report)
    assert "not a readable PEM certificate" in attention["certificates/alpha.test/archive/alpha.test/cert2.pem"]
    assert "does not go with" in attention["certificates/shop.beta.test/archive/shop.beta.test/privkey1.pem"]
    assert "unreadable" in attention["certificates/legacy.beta.test/metadata.json"]
    assert "unknown DNS provider 'madeupdns'" in attention["settings.json: dns_providers.madeupdns.accounts.x"]
    assert "secret-madeup-token" not in report.as_json()
    with tenant_context(tenant_a):
        alpha_versions = Certificate.objects.get(identifier="alpha.test").versions.order_by("number")
        assert alpha_versions.count() == 2  # versions 1 and 3
        shop_first = Certificate.objects.get(identifier="shop.beta.test").versions.get(number=1)
        assert not shop_first.has_private_key
        assert Certificate.objects.filter(identifier="legacy.beta.test").exists()


def test_a_corrupt_settings_file_is_named_and_certificates_still_import(tenant_a, data_copy):
    (data_copy / "data" / "settings.json").write_text('{"domains": [')
    report = run_import(tenant_a, path=data_copy)
    assert "unreadable" in _attention(report)["data/settings.json"]
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(kind=CertificateKind.SERVER).count() == 5


def test_a_new_issuance_in_the_source_is_added_on_the_next_run(tenant_a, data_copy):
    archive = data_copy / "certificates" / "alpha.test" / "archive" / "alpha.test"
    saved = {kind: (archive / f"{kind}3.pem").read_bytes() for kind in ("cert", "chain", "fullchain", "privkey")}
    for kind in saved:
        (archive / f"{kind}3.pem").unlink()
    run_import(tenant_a, path=data_copy)
    for kind, content in saved.items():
        (archive / f"{kind}3.pem").write_bytes(content)
    report = run_import(tenant_a, path=data_copy)
    with tenant_context(tenant_a):
        certificate = Certificate.objects.get(identifier="alpha.test")
        assert list(certificate.versions.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
        assert certificate.current_version.number == 3
    assert [e.outcome for e in report.entries if e.item.startswith("certificates/shop.beta.test/ (")] == ["unchanged"]


def test_a_hostile_zip_is_read_without_leaving_it(tenant_a, tmp_path):
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../escape.txt", "x")
        archive.writestr("/etc/certmate-absolute", "x")
        link = zipfile.ZipInfo("certificates/evil.test/cert.pem")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("settings.json", json.dumps({"domains": ["evil.test"]}))
        archive.writestr("certificates/bomb.test/cert.pem", b"0" * 5_000_000, compress_type=zipfile.ZIP_DEFLATED)
    report = run_import(tenant_a, path=hostile)
    attention = _attention(report)
    assert "outside the archive" in attention["../escape.txt"]
    assert "outside the archive" in attention["/etc/certmate-absolute"]
    assert "symbolic link" in attention["certificates/evil.test/cert.pem"]
    assert "zip bomb" in attention["certificates/bomb.test/cert.pem"]
    assert not (tmp_path.parent / "escape.txt").exists()
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0


def test_what_is_not_certmate_is_refused_with_a_reason(tmp_path):
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(SourceError, match="not a readable zip"):
        source_open(tmp_path / "notes.txt")


def test_the_command_prints_the_report_and_json(tenant_a, capsys):
    call_command("import_certmate", str(BACKUP), "--tenant", tenant_a.schema_name, "--dry-run", "--json")
    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True and printed["counts"]["imported"] > 0
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0


def test_a_share_safe_backup_names_what_its_masks_hide(tenant_a, tmp_path):
    masked = tmp_path / "masked.zip"
    with zipfile.ZipFile(BACKUP) as source, zipfile.ZipFile(masked, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "settings.json":
                wrapped = json.loads(data)
                for account in wrapped["settings"]["dns_providers"]["rfc2136"]["accounts"].values():
                    account["tsig_secret"] = "********"
                wrapped["settings"]["api_bearer_token_hash"] = "********"
                data = json.dumps(wrapped).encode()
            if "privkey" not in info.filename and not info.filename.endswith(".key"):
                target.writestr(info, data)
    report = run_import(tenant_a, path=masked)
    attention = _attention(report)
    assert "masked in this backup" in attention["settings.json: dns_providers.rfc2136.accounts.alpha"]
    assert "issue a new token" in attention["settings.json: api_bearer_token_hash"]
    assert "no ca.key" in attention["data/certs/ca/ (CertMate's private CA)"]
    with tenant_context(tenant_a):
        version = Certificate.objects.get(identifier="alpha.test").current_version
        assert not version.has_private_key  # kept without its key, and said so
    assert (
        "without its key"
        in {e.item: e.reason for e in report.entries}["certificates/alpha.test/archive/alpha.test/cert3.pem"]
    )


def test_an_external_storage_backend_becomes_the_tenants_target(tenant_a, data_copy):
    settings_path = data_copy / "data" / "settings.json"
    settings = json.loads(settings_path.read_text())
    settings["certificate_storage"]["backend"] = "hashicorp_vault"
    settings["certificate_storage"]["hashicorp_vault"] = {
        "vault_url": "https://vault.alpha.test:8200", "vault_token": "hvs.fixture-vault-token",
        "mount_point": "secret", "engine_version": "v2",
    }  # fmt: skip
    settings_path.write_text(json.dumps(settings))
    report = run_import(tenant_a, path=data_copy)
    assert "hvs.fixture-vault-token" not in report.as_json()
    with tenant_context(tenant_a):
        target = StorageConfig.objects.get(is_active=True)
        assert (target.backend, target.settings["url"], target.credentials["token"]) == (
            "hashicorp_vault", "https://vault.alpha.test:8200", "hvs.fixture-vault-token",
        )  # fmt: skip
    again = run_import(tenant_a, path=data_copy)
    assert [e.outcome for e in again.entries if e.item.startswith("settings.json: certificate_storage")] == [
        "unchanged"
    ]


def test_an_import_that_breaks_part_way_leaves_nothing_and_the_next_run_completes(tenant_a, monkeypatch):
    from apps.importing.services import certmate as service

    def broken(run):
        raise RuntimeError("the machine went away")

    monkeypatch.setattr(service, "STEPS", (*service.STEPS[:-2], broken, *service.STEPS[-2:]))
    with pytest.raises(RuntimeError):
        run_import(tenant_a)
    with tenant_context(tenant_a):
        assert Certificate.objects.count() == 0 and not ApiToken.objects.filter(name__startswith="CertMate").exists()
    monkeypatch.undo()
    report = run_import(tenant_a)
    assert report.changed
    with tenant_context(tenant_a):
        assert Certificate.objects.filter(kind=CertificateKind.SERVER).count() == 5


@pytest.mark.parametrize(
    ("hostile", "item"),
    [
        ({"default_key_type": "ecdsa", "default_elliptic_curve": [{}]}, "settings.json: default_key_type"),
        ({"default_key_type": "rsa", "default_key_size": {"bits": 4096}}, "settings.json: default_key_type"),
        ({"api_keys": {"k1": "not an object"}}, "settings.json: api_keys.k1"),
        # A scope that is not a list must not become "every certificate".
        (
            {"api_keys": {"k1": {"token_hash": "sha256:" + "ab" * 32, "allowed_domains": "shop.example.com"}}},
            "settings.json: api_keys.k1",
        ),
    ],
)
def test_a_settings_value_of_the_wrong_shape_is_named_not_a_server_error(tenant_a, tmp_path, hostile, item):
    (tmp_path / "data").mkdir()
    (tmp_path / "certificates").mkdir()
    (tmp_path / "data" / "settings.json").write_text(json.dumps(hostile))
    report = run_import(tenant_a, path=tmp_path, dry_run=True)
    assert any(name.startswith(item) for name in _attention(report)), _attention(report)


def _central_directory_bomb(path, entries: int) -> None:
    """A small zip whose central directory lists ``entries`` entries, all of one empty local file."""
    name = b"a"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + name
    with open(path, "wb") as handle:
        handle.write(local)
        for _ in range(entries // 10_000):
            handle.write(entry * 10_000)
        size = handle.tell() - len(local)
        handle.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, size, len(local), 0))


def test_a_zip_listing_millions_of_entries_is_refused_before_they_are_read(tmp_path):
    # 70 MB listing 1.5 million entries: read as Python objects, about 0.5 GB of a web worker's memory.
    bomb = tmp_path / "listing.zip"
    _central_directory_bomb(bomb, 1_500_000)
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="central directory"):
            source_open(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
