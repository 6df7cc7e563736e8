"""A CA account's order window: at most CERTMATE_ORDERS_PER_ACCOUNT orders per
CERTMATE_ORDER_WINDOW_SECONDS (the CAs' own rate limits), whether the account is a certificate's own or
one its order fell back to."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min

from apps.certificates.engines.base import Wait
from apps.certificates.models import CaAccount, FallbackOrder, Job, JobOperation


def ca_account_order_wait(*, ca_account_id: int, now: datetime) -> Wait | None:
    """How long a new order at the account must wait, if at all. Call inside a transaction: the
    account's row lock makes concurrent claims count one by one.

    Counted: the orders of the certificates whose own account it is, and those other certificates'
    issuer fallback sent there (fallback.py records each, issued or not)."""
    CaAccount.objects.select_for_update().filter(pk=ca_account_id).first()
    window = timedelta(seconds=settings.CERTMATE_ORDER_WINDOW_SECONDS)
    orders = [
        Job.objects.filter(certificate__ca_account_id=ca_account_id).exclude(operation=JobOperation.REVOKE),
        FallbackOrder.objects.filter(ca_account_id=ca_account_id),
    ]
    counted = [rows.filter(started_at__gte=now - window).aggregate(n=Count("pk"), first=Min("started_at"))
               for rows in orders]  # fmt: skip
    if sum(count["n"] for count in counted) < settings.CERTMATE_ORDERS_PER_ACCOUNT:
        return None
    oldest = min(count["first"] for count in counted if count["first"] is not None)
    seconds = (oldest + window - now).total_seconds() + random.uniform(1, 30)  # noqa: S311
    return Wait(seconds, "waiting for the CA account's order window: its order limit is reached")
