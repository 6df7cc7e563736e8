"""The lego variables a tenant may set: one allowlist per lego provider, generated from lego's own
metadata, checked against the lego compiled into the installed plugin, and enforced by the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.certificates.acme import lego
from tests.tools import missing_tool

ROOT = Path(__file__).resolve().parents[2]
LEGO_SOURCE = Path(os.environ.get("CERTMATE_LEGO_SOURCE", "/work/.mirror/go-acme+lego/repo"))

_PROBE = """
import json, sys
from lego_bridge import cmd
answers = {}
for name in json.loads(sys.argv[1]):
    answer = json.loads(cmd(json.dumps({"action": "configure", "provider": name, "credentials": {}})))
    answers[name] = answer.get("error", "")
print(json.dumps(answers))
"""


def _bridge() -> Path:
    import certbot_dns_multi

    found = list(Path(certbot_dns_multi.__file__).parents[1].glob("lego_bridge*.so"))
    if not found:
        missing_tool("certbot-dns-multi's lego_bridge library is not installed")
    return found[0]


def _ask_installed_lego(names: list[str]) -> dict[str, str]:
    _bridge()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", "LANG": "C.UTF-8"},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_allowed_provider_is_one_the_installed_lego_knows():
    names = lego.provider_names()
    answers = _ask_installed_lego([*names, "certmate-no-such-provider"])
    assert "unrecognized DNS provider" in answers.pop("certmate-no-such-provider")  # the probe can tell
    unknown = [name for name, error in answers.items() if "unrecognized DNS provider" in error or "shut down" in error]
    assert not unknown
    assert len(names) > 200


def _in_library(name: str, compiled: bytes) -> bool:
    # Some names are put together at run time from a prefix and a rest ("CF_" + "API_KEY").
    prefix, _, rest = name.partition("_")
    return name.encode() in compiled or (f"{prefix}_".encode() in compiled and rest.encode() in compiled)


def test_every_allowed_variable_is_read_by_the_installed_lego():
    compiled = _bridge().read_bytes()
    missing = [
        f"{provider}.{name}"
        for provider, entry in lego.table()["providers"].items()
        for name in entry["variables"]
        if not _in_library(name, compiled)
    ]
    assert not missing
    assert not _in_library("CERTMATE_NOT_A_LEGO_VARIABLE", compiled)


def _generator():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lego_providers
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return lego_providers


def test_the_generator_refuses_what_would_change_the_process_or_read_the_host():
    classify = _generator().classify
    for name in ("LD_PRELOAD", "HTTPS_PROXY", "GODEBUG", "PATH", "PYTHONPATH", "X_API_KEY_FILE", "X_CONFIG_FILE"):
        assert classify(name)[0] == "refused", name
    assert classify("X_API_KEY") == ("secret", "")
    assert classify("X_TTL") == ("seconds", "")
    assert classify("X_API_URL") == ("destination", "")
    assert classify("X_RAM_ROLE") == ("identity", "")


def test_the_table_is_what_the_generator_makes_from_lego():
    # A maintainer's check, where a lego checkout is at hand (tests never download): CI has none to give.
    if not (LEGO_SOURCE / "HEAD").exists():
        pytest.skip(f"no lego source at {LEGO_SOURCE} (set CERTMATE_LEGO_SOURCE to a lego git repository)")
    lego_providers = _generator()
    committed = lego.TABLE.read_text()
    table = lego_providers.build(str(LEGO_SOURCE), json.loads(committed)["lego"]["commit"])
    assert lego_providers.render(table) == committed


def test_the_table_leaves_out_files_profiles_identities_and_programs():
    table = lego.table()
    assert {"exec", "manual"} <= set(table["refused_providers"]) and "exec" not in table["providers"]
    for entry in table["providers"].values():
        for name in entry["variables"]:
            assert not name.upper().endswith(("_FILE", "_PATH", "_PROFILE")) and "EDGERC" not in name
    assert table["providers"]["alidns"]["variables"]["ALICLOUD_RAM_ROLE"] == "identity"
    assert table["providers"]["oraclecloud"]["variables"]["OCI_AUTH_TYPE"] == "identity"
    assert "OS_CLOUD" not in table["providers"]["designate"]["variables"]
