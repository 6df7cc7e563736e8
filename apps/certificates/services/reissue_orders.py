"""Pacing a bulk reissue's orders by the CA account's order limit: a job claim already makes an order
over CERTMATE_ORDERS_PER_ACCOUNT wait (engine.order_wait), but a bulk reissue of thousands must not
queue thousands of jobs either. It orders only while the account has room, counting the orders started
in the window and the ones queued that will start in it; the rest wait as pending items, saying why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q

from apps.certificates.models import CaAccount, FallbackOrder, Job, JobOperation, JobStatus


@dataclass(frozen=True)
class OrderWait:
    """A CA account with no room for another order now: why, and when room is made at the earliest
    (None: when its queued orders have started and their window has passed)."""

    reason: str
    until: datetime | None


def order_room(ca_account_id: int, *, now: datetime) -> OrderWait | None:
    """None when the CA account may take one more order now. Holds the account's row until the caller's
    transaction ends (a job claim takes it too), so orders placed meanwhile are counted one by one;
    a lock that leaves its key alone, so a certificate saved with this account meanwhile does not wait."""
    account = CaAccount.objects.select_for_update(no_key=True).only("pk", "name").filter(pk=ca_account_id).first()
    if account is None:
        return None
    seconds = settings.CERTMATE_ORDER_WINDOW_SECONDS
    since = now - timedelta(seconds=seconds)
    orders = Job.objects.filter(certificate__ca_account_id=ca_account_id).exclude(operation=JobOperation.REVOKE)
    counted = orders.aggregate(
        started=Count("pk", filter=Q(started_at__gte=since)),
        queued=Count("pk", filter=Q(status=JobStatus.QUEUED, started_at__isnull=True)),
        oldest=Min("started_at", filter=Q(started_at__gte=since)),
    )
    # Orders other certificates' issuer fallback sent to this account count as well.
    fallen_back = FallbackOrder.objects.filter(ca_account_id=ca_account_id, started_at__gte=since).aggregate(
        n=Count("pk"), oldest=Min("started_at")
    )
    counted["started"] += fallen_back["n"]
    counted["oldest"] = min(filter(None, (counted["oldest"], fallen_back["oldest"])), default=None)
    limit = settings.CERTMATE_ORDERS_PER_ACCOUNT
    if counted["started"] + counted["queued"] < limit:
        return None
    until = counted["oldest"] + timedelta(seconds=seconds) if counted["oldest"] and not counted["queued"] else None
    when = f"; room again at {until:%Y-%m-%d %H:%M:%S} UTC" if until else ""
    reason = (
        f"waiting for CA account {account.name!r}'s order limit: {counted['started']} orders started in the "
        f"last {seconds} s and {counted['queued']} queued, of {limit} (CERTMATE_ORDERS_PER_ACCOUNT){when}"
    )
    return OrderWait(reason=reason, until=until)
