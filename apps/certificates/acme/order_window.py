"""A CA account's order window: at most CERTMATE_ORDERS_PER_ACCOUNT orders per
CERTMATE_ORDER_WINDOW_SECONDS (the CAs' own rate limits), whether the account is a certificate's own or
one its order fell back to."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q

from apps.certificates.engines.base import Wait
from apps.certificates.models import CaAccount, Job, JobOperation


def ca_account_order_wait(*, ca_account_id: int, now: datetime) -> Wait | None:
    """How long a new order at the account must wait, if at all. Call inside a transaction: the
    account's row lock makes concurrent claims count one by one.

    Counted: the orders of the certificates whose own account it is, and those another certificate's
    fallback stored a version from (a fallback order that failed there leaves no row to count)."""
    CaAccount.objects.select_for_update().filter(pk=ca_account_id).first()
    window = timedelta(seconds=settings.CERTMATE_ORDER_WINDOW_SECONDS)
    recent = Job.objects.filter(
        Q(certificate__ca_account_id=ca_account_id) | Q(version__ca_account_id=ca_account_id),
        started_at__gte=now - window,
    ).exclude(operation=JobOperation.REVOKE)
    if recent.count() < settings.CERTMATE_ORDERS_PER_ACCOUNT:
        return None
    oldest = recent.aggregate(first=Min("started_at"))["first"]
    seconds = (oldest + window - now).total_seconds() + random.uniform(1, 30)  # noqa: S311
    return Wait(seconds, "waiting for the CA account's order window: its order limit is reached")
