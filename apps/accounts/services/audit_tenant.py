"""Audit events of account writes, which run in tenant schemas and in public (platform operators).

The audit log is per tenant (``certmate.audit`` is a tenant app): a write in the public schema, such as
a platform operator created by ``bootstrap``, has no log to go to and records nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django_tenants.utils import get_public_schema_name

from certmate.audit.models import AuditEvent
from certmate.audit.services import audit_record


def audit_in_tenant(**event: Any) -> AuditEvent | None:
    """``audit_record(**event)`` in a tenant's schema; None (nothing recorded) in the public one."""
    if connection.schema_name == get_public_schema_name():
        return None
    return audit_record(**event)
