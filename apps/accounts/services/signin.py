"""Lifting sign-in lockouts in the current schema (a tenant's, or public for the platform admin)."""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.signin.rules import username_normalize

logger = logging.getLogger(__name__)
LOGGED_UNLOCKS = 20  # records named in the log line of one unlock


@transaction.atomic
def signin_unlock(*, username: str | None = None, address: str | None = None, actor: str) -> int:
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
def signin_attempts_delete(*, attempts: QuerySet[AccessAttempt], actor: str) -> int:
    """Forget these counted failures (what unlocks); returns how many records went."""
    named = [f"{a.username or '-'}@{a.ip_address or '-'}" for a in attempts[:LOGGED_UNLOCKS]]
    count, _ = attempts.delete()
    more = f" and {count - len(named)} more" if count > len(named) else ""
    logger.warning("sign-in unlocked by %s: %s%s", actor, ", ".join(named) or "nothing was locked", more)
    return count


@transaction.atomic
def signin_records_prune(*, days: int) -> int:
    """Delete sign-in records (successful sign-ins, failures) older than ``days`` in the current schema;
    returns how many went. Counted failures (what locks) expire by themselves after the cool-off."""
    if days < 1:
        raise ValidationError("keep at least 1 day of sign-in records", code="prune_days")
    before = timezone.now() - timedelta(days=days)
    logs, _ = AccessLog.objects.filter(attempt_time__lt=before).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=before).delete()
    return logs + failures
