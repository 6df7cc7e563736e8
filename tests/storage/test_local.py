"""The local filesystem backend: layout, permissions, atomic replacement and confinement."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from apps.storage.backends.base import IdentifierRefused, StorageError
from apps.storage.backends.local import LocalFilesystemBackend
from apps.storage.naming import escape, unescape
from tests.storage.contract import check_contract, sample_bundle


@pytest.fixture
def root(tmp_path, settings) -> Path:
    settings.CERTMATE_STORAGE_ROOT = tmp_path / "certificates"
    return settings.CERTMATE_STORAGE_ROOT


def local(tenant: str = "alpha") -> LocalFilesystemBackend:
    return LocalFilesystemBackend(tenant=tenant, settings={}, credentials={})


def walk(top: Path) -> dict[str, int]:
    """Every path under ``top`` (relative) with its permission bits; symlinks are not followed."""
    found = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder, name)
            found[str(path.relative_to(top))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_contract(root):
    check_contract(local)


def test_layout_and_exact_permissions(root):
    backend = local()
    backend.store(sample_bundle("*.example.com", 1))
    backend.store(sample_bundle("*.example.com", 2))
    folder = root / "alpha" / "server" / "_2a.example.com"
    assert sorted(os.listdir(folder)) == [
        "archive", "cert.pem", "chain.pem", "fullchain.pem", "metadata.json", "privkey.pem",
    ]  # fmt: skip
    assert sorted(os.listdir(folder / "archive")) == sorted(
        f"{stem}{n}.{ext}"
        for n in (1, 2)
        for stem, ext in (
            ("cert", "pem"),
            ("chain", "pem"),
            ("fullchain", "pem"),
            ("privkey", "pem"),
            ("metadata", "json"),
        )
    )
    modes = walk(root)
    for path, mode in modes.items():
        name = Path(path).name
        if (root / path).is_dir():
            assert mode == 0o700, path
        elif name.startswith("privkey") or name.startswith("."):
            assert mode == 0o600, path
        else:
            assert mode == 0o644, path
    assert modes["alpha/server/_2a.example.com/privkey.pem"] == 0o600
    assert modes["alpha/server/_2a.example.com/archive/privkey1.pem"] == 0o600
    assert modes["alpha/server/_2a.example.com/cert.pem"] == 0o644
    assert (folder / "cert.pem").read_text() == sample_bundle("*.example.com", 2).cert_pem


def test_permissions_hold_whatever_the_umask(root):
    old = os.umask(0o000)
    try:
        local().store(sample_bundle("umask.example.com"))
    finally:
        os.umask(old)
    folder = root / "alpha" / "server" / "umask.example.com"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "privkey.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "fullchain.pem").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "identifier",
    ["*.example.com", "example.com", "user@example.com", "CN=Device 7/Serial", "_x", "münchen.example", ".hidden"],
)
def test_folder_names_are_safe_and_reversible(identifier):
    name = escape(identifier)
    assert unescape(name) == identifier
    assert "/" not in name and "\0" not in name and name not in (".", "..") and not name.startswith(".")


def test_folder_names_never_collide():
    identifiers = ["*.a.com", "_2a.a.com", "a_b", "a-b", "a.b", "A.b", "a%2fb", "a/b"]
    assert len({escape(i) for i in identifiers}) == len(identifiers)


HOSTILE = [
    "..",
    "../../etc",
    "../beta/server/x",
    "/etc/passwd",
    "a/../../..",
    "nul\0byte",
    "ctl\x01\x1b[31m\n",
    "." * 200,
    "~root",
    "\\..\\..\\windows",
    "a" * 84 + "/" + "b" * 84,
]


@pytest.mark.parametrize("identifier", HOSTILE)
def test_hostile_identifiers_stay_in_the_tenants_folder(tmp_path, settings, identifier):
    root = tmp_path / "certificates"
    settings.CERTMATE_STORAGE_ROOT = root
    outside_before = walk(tmp_path)
    backend = local()
    try:
        backend.store(sample_bundle(identifier))
    except IdentifierRefused:
        stored = False
    else:
        stored = True
        assert backend.read("server", identifier) == sample_bundle(identifier)
        assert [item.identifier for item in backend.list()] == [identifier]
    written = {path for path in walk(tmp_path) if path not in outside_before}
    for path in written:
        assert path == "certificates" or path.startswith("certificates/alpha"), path
    if stored:
        top = {Path(p).parts[:3] for p in written if len(Path(p).parts) >= 3}
        assert top == {("certificates", "alpha", "server")}
        backend.delete("server", identifier)
        assert backend.list() == []


@pytest.mark.parametrize("identifier", ["x" * 254, "é" * 127, "", "a" * 100 + "\x00" * 60])
def test_overlong_or_empty_identifiers_are_refused(root, identifier):
    with pytest.raises(IdentifierRefused):
        local().store(sample_bundle(identifier))
    assert not (root / "alpha" / "server").exists() or os.listdir(root / "alpha" / "server") == []


def test_a_bad_tenant_slug_is_refused(root):
    with pytest.raises(StorageError):
        local("../beta").store(sample_bundle("example.com"))
    assert not root.exists() or walk(root) == {}


def test_a_symlinked_tenant_folder_is_not_written_through(root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root.mkdir(mode=0o700)
    (root / "alpha").symlink_to(elsewhere)
    with pytest.raises(StorageError, match="symbolic link"):
        local().store(sample_bundle("example.com"))
    assert list(elsewhere.iterdir()) == []


def test_readers_never_see_a_half_written_set_or_a_mismatched_pair(root):
    """While versions are replaced in a loop, every read of the folder gives one whole version: the
    certificate, key and metadata always belong together."""
    backend = local()
    backend.store(sample_bundle("race.example.com", 1))
    folder = root / "alpha" / "server" / "race.example.com"
    stop = threading.Event()
    seen, problems = set(), []

    def reader():
        while not stop.is_set():
            try:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                problems.append("folder missing")
                continue
            try:
                texts = {}
                for name in ("cert.pem", "privkey.pem", "metadata.json"):
                    with open(os.open(name, os.O_RDONLY, dir_fd=fd)) as handle:
                        texts[name] = handle.read()
            except FileNotFoundError as exc:
                problems.append(f"file missing: {exc}")
                continue
            finally:
                os.close(fd)
            versions = {text.split(":v")[1].split(":")[0] for text in (texts["cert.pem"], texts["privkey.pem"])}
            if len(versions) != 1 or f'"version": {versions.pop()}' not in texts["metadata.json"]:
                problems.append(str(texts))
            seen.add(texts["cert.pem"])

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for number in range(2, 40):
        backend.store(sample_bundle("race.example.com", number))
    stop.set()
    for thread in threads:
        thread.join()
    assert problems == []
    assert len(seen) > 1
    leftovers = [p for p in os.listdir(folder.parent) if p.startswith(".")]
    assert sorted(leftovers) == [".race.example.com.lock", ".race.example.com.previous"]


def test_two_tenants_with_the_same_identifier_keep_apart(root):
    alpha, beta = local("alpha"), local("beta")
    alpha.store(sample_bundle("shared.example.com", 1, tag="alpha"))
    beta.store(sample_bundle("shared.example.com", 1, tag="beta"))
    assert alpha.read("server", "shared.example.com").metadata["tag"] == "alpha"
    assert beta.read("server", "shared.example.com").metadata["tag"] == "beta"
    assert (root / "alpha" / "server" / "shared.example.com").is_dir()
    assert (root / "beta" / "server" / "shared.example.com").is_dir()


def test_test_connection_reports_an_unwritable_root(tmp_path, settings):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    settings.CERTMATE_STORAGE_ROOT = blocked
    with pytest.raises(StorageError, match="cannot write"):
        local().test_connection()


def test_a_damaged_folder_is_skipped_by_list_and_replaced_by_the_next_store(root):
    backend = local()
    backend.store(sample_bundle("damaged.example.com", 1))
    backend.store(sample_bundle("fine.example.com", 1))
    (root / "alpha/server/damaged.example.com/chain.pem").unlink()  # someone's clean-up went wrong
    assert [item.identifier for item in backend.list()] == ["fine.example.com"]
    backend.store(sample_bundle("damaged.example.com", 2))
    assert backend.read("server", "damaged.example.com") == sample_bundle("damaged.example.com", 2)
