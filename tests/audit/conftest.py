"""Fixtures the faces tests share with the apps' own tests."""

from tests.storage.conftest import bao  # noqa: F401 - the session's OpenBao (the Vault API), a fixture
