"""Shared fixtures for the private CA tests: a hierarchy per tenant, openssl."""

from __future__ import annotations

import subprocess

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.pki.services import ca_hierarchy_create
from tests.factories import TEST_ACTOR
from tests.tools import find_program, missing_tool


def openssl(*args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    program = find_program("openssl")
    if program is None:
        missing_tool("openssl is not installed")
    done = subprocess.run([program, *args], capture_output=True, text=True, input=input_text, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def hierarchy_a(tenant_a):
    """Tenant A's CA "alpha" (an EC P-256 intermediate under "alpha-root"), with the default profiles."""
    with tenant_context(tenant_a):
        return ca_hierarchy_create(name="alpha", common_name="Alpha CA", organization="Alpha", key_type="ec256",
                                   actor=TEST_ACTOR)  # fmt: skip


@pytest.fixture
def hierarchy_b(tenant_b):
    with tenant_context(tenant_b):
        return ca_hierarchy_create(name="beta", common_name="Beta CA", organization="Beta", key_type="ec256",
                                   actor=TEST_ACTOR)  # fmt: skip
