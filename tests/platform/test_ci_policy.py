"""Under CI=true nothing may pass by skipping."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_skipped_test_fails_under_ci_and_skips_otherwise(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\ndef test_needs_a_tool():\n    pytest.skip('frobnicator is not installed')\n")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--confcutdir",
        str(ROOT),
        str(probe),
    ]

    def run(ci: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "CI": ci}
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    local, ci = run("false"), run("true")
    assert local.returncode == 0 and "1 skipped" in local.stdout
    assert ci.returncode == 1 and "1 failed" in ci.stdout
    assert "frobnicator is not installed" in ci.stdout
