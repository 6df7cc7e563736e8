"""Lifting sign-in lockouts in the current schema (a tenant's, or public for the platform admin).

An unlock that forgets something records ``signin.unlocked`` (who was locked, as ``username@address``);
pruning old records records ``signin.records_pruned``. In the public schema there is no audit log.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.services.audit_tenant import audit_in_tenant
from apps.accounts.signin.rules import username_normalize
from certmate.actors import Actor

logger = logging.getLogger(__name__)
LOGGED_UNLOCKS = 20  # records named in the log line of one unlock


@transaction.atomic
def signin_unlock(*, username: str | None = None, address: str | None = None, actor: Actor) -> int:
    """Forget the counted failures of ``username`` (from any address), of ``address`` (for any
    username), or of that pair when both are given; returns how many records went. The failure log
    (AccessFailureLog) and successful sign-ins (AccessLog) stay as the record."""
    name = username_normalize(username)
    if name is None and not address:
        raise ValidationError("give a username, an address or both", code="unlock_what")
    attempts = AccessAttempt.objects.all()
    if name is not None:
        attempts = attempts.filter(username=name)
    if address:
        try:
            attempts = attempts.filter(ip_address=str(ipaddress.ip_address(address.strip())))
        except ValueError:
            raise ValidationError(f"{address!r} is not an IP address", code="invalid_address") from None
    return signin_attempts_delete(attempts=attempts, actor=actor)


@transaction.atomic
def signin_attempts_delete(*, attempts: QuerySet[AccessAttempt], actor: Actor) -> int:
    """Forget these counted failures (what unlocks); returns how many records went."""
    named = [f"{a.username or '-'}@{a.ip_address or '-'}" for a in attempts[:LOGGED_UNLOCKS]]
    count, _ = attempts.delete()
    more = f" and {count - len(named)} more" if count > len(named) else ""
    logger.warning("sign-in unlocked by %s: %s%s", actor.name, ", ".join(named) or "nothing was locked", more)
    if count:
        audit_in_tenant(
            actor=actor,
            action="signin.unlocked",
            object_type="signin_lockout",
            object_name=", ".join(named) + more,
            changes={"locked": [named, []], "records": [count, 0]},
        )
    return count


@transaction.atomic
def signin_records_prune(*, days: int, actor: Actor) -> int:
    """Delete sign-in records (successful sign-ins, failures) older than ``days`` in the current schema;
    returns how many went. Counted failures (what locks) expire by themselves after the cool-off."""
    if days < 1:
        raise ValidationError("keep at least 1 day of sign-in records", code="prune_days")
    before = timezone.now() - timedelta(days=days)
    logs, _ = AccessLog.objects.filter(attempt_time__lt=before).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=before).delete()
    if logs + failures:
        audit_in_tenant(
            actor=actor,
            action="signin.records_pruned",
            object_type="signin_record",
            object_name=f"sign-in records older than {days} days",
            changes={"deleted": {"sign_ins": logs, "failures": failures}},
        )
    return logs + failures
