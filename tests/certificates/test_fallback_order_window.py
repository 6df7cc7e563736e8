"""Orders issuer fallback sent to a CA account count against that account's order window, issued or not:
a certificate whose own account it is waits, and a bulk reissue paces its orders by them too."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.certificates.acme.order_window import ca_account_order_wait
from apps.certificates.models import FallbackOrder
from apps.certificates.services.reissue_orders import order_room
from tests.factories import accounts


def test_orders_fallen_back_to_an_account_fill_its_window(tenant_a, settings):
    settings.CERTMATE_ORDERS_PER_ACCOUNT = 2
    with tenant_context(tenant_a):
        ca, _ = accounts()
        now = timezone.now()
        with transaction.atomic():
            assert ca_account_order_wait(ca_account_id=ca.pk, now=now) is None
            assert order_room(ca.pk, now=now) is None
        FallbackOrder.objects.bulk_create(FallbackOrder(ca_account=ca, started_at=now) for _ in range(2))
        with transaction.atomic():
            wait = ca_account_order_wait(ca_account_id=ca.pk, now=now)
            room = order_room(ca.pk, now=now)
        assert wait is not None and 3600 * 3 <= wait.seconds <= 3600 * 3 + 31
        assert room is not None and "2 orders started" in room.reason
        # Out of the window they no longer count.
        later = now + timezone.timedelta(seconds=settings.CERTMATE_ORDER_WINDOW_SECONDS + 1)
        with transaction.atomic():
            assert ca_account_order_wait(ca_account_id=ca.pk, now=later) is None


def test_orders_out_of_the_window_are_dropped_when_the_next_is_counted(tenant_a, settings):
    from apps.certificates.acme.fallback import _window_claim

    with tenant_context(tenant_a):
        ca, _ = accounts()
        long_ago = timezone.now() - timezone.timedelta(seconds=settings.CERTMATE_ORDER_WINDOW_SECONDS + 60)
        FallbackOrder.objects.create(ca_account=ca, started_at=long_ago)
        assert _window_claim(ca) is None  # room: counted
        assert list(FallbackOrder.objects.filter(ca_account=ca).values_list("started_at", flat=True)) != [long_ago]
        assert FallbackOrder.objects.filter(ca_account=ca).count() == 1
