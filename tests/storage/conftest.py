"""Real secret stores for the storage backends' tests, started once per session on free loopback ports.

Without their programs the tests skip with the reason (fail under CI=true, see tests.tools).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.servers import Bao, MotoServer
from tests.tools import missing_tool


@pytest.fixture(scope="session")
def bao() -> Iterator[Bao]:
    """An OpenBao dev server (the Vault API). A test that stops it must start it again on its port."""
    reason = Bao.missing_reason()
    if reason:
        missing_tool(reason)
    with Bao() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto_server speaking AWS Secrets Manager, accepting any credentials."""
    reason = MotoServer.missing_reason()
    if reason:
        missing_tool(reason)
    with MotoServer() as server:
        yield server
