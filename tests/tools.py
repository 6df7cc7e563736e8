"""Helpers for tests that need programs outside Python (pg_dump now; Pebble, BIND9, Chromium later).

Without the program a test skips with the reason, except under CI=true, where it fails: CI must
never pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"


def missing_tool(reason: str):
    if ON_CI:
        pytest.fail(f"CI=true and a required tool is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def find_program(name: str, *, extra_dirs: list | None = None) -> str | None:
    for folder in extra_dirs or []:
        candidate = os.path.join(str(folder), name)
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)
