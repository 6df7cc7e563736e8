"""Schemathesis over the whole schema, in-process on alpha.test with an admin token: whatever the input,
no 5xx, and every answer (errors included) matches the schema. Bounded: a few examples per operation.

Operations are driven one by one from here: schemathesis' pytest plugin (from_fixture) does not run on
pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.services.tokens import token_create
from tests.conftest import TENANT_A

BASE_URL = f"http://{TENANT_A['domain']}"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
application = WSGIHandler()
# Paths under /api/certificates/ that are endpoints of their own: a {domain} spelling one is not a domain.
FIXED_WORDS = ("jobs", "create")


@pytest.fixture
def in_process(tenant_a):
    """Like Django's test client: the test's connection (and its transaction) outlives each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_api_survives_any_input(in_process, tenant_a, api_user, mode):
    admin = api_user(tenant_a, "admin")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, base_url=BASE_URL)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    def fresh_token() -> str:
        # A new token per example: a fuzzed DELETE /api/tokens/{id} may have revoked the previous one.
        with tenant_context(tenant_a):
            return token_create(user=admin, role="admin")[1]

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        # Derandomized: the same examples every run, so CI's verdict depends on the code, not on luck.
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def run(case):
            assume(case.path_parameters is None or case.path_parameters.get("domain") not in FIXED_WORDS)
            case.call_and_validate(
                base_url=BASE_URL, headers={"Authorization": f"Bearer {fresh_token()}"}, checks=CHECKS
            )

        run()
