"""Issuer fallback: an order goes to the certificate's CA account, then to each account of its chain
(its own fallback chain, or else the tenant's default one) in turn, but only after a failure another CA
could fix (failures.fallback_class): the CA could not be reached, limited the rate, failed inside, or
its policy refused the names. A DNS or validation failure stops at once: it would fail anywhere.

Each account is registered on its first use and keeps its own order window (a full one is skipped).
The job's output lists each CA account tried and its result; what is issued names the account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.certificates import untrusted
from apps.certificates.acme.failures import FALLBACK_LABELS, fallback_class
from apps.certificates.acme.order_window import ca_account_order_wait
from apps.certificates.engines.base import EngineError
from apps.certificates.issued import Issued
from apps.certificates.models import CaAccount, Certificate, FallbackOrder
from apps.certificates.services.acme_options import issuer_chain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tried:
    """One CA account of the chain and how it went: "issued", or why not (``error``)."""

    account: CaAccount
    result: str
    error: EngineError | None = None

    def line(self) -> str:
        why = f": {self.error.reason}" if self.error is not None else ""
        return f"CA account {self.account.name!r} ({self.account.directory_url}): {self.result}{why}"


def obtain_through_chain(certificate: Certificate, order_at: Callable[[CaAccount], Issued]) -> Issued:
    """``order_at(ca_account)`` down the certificate's issuer chain until one issues; EngineError when
    none did, with each account's reason (transient, and when to retry, as the last account's)."""
    chain = issuer_chain(certificate)
    tried: list[Tried] = []
    for index, account in enumerate(chain):
        # The certificate's own account's window was checked when its job was claimed.
        skipped = _window_claim(account) if index else None
        if skipped is not None:
            tried.append(skipped)
            continue
        try:
            issued = order_at(account)
        except EngineError as exc:
            kind = fallback_class(f"{exc.reason}\n{exc.output}", ca_url=account.directory_url)
            result = f"failed, {FALLBACK_LABELS[kind]}" if kind else "failed, as it would at any CA"
            tried.append(Tried(account, result, exc))
            if kind is None:
                break  # the same at any CA
            logger.info("%s: CA account %s failed (%s), trying the next", certificate.identifier, account.name, kind)
            continue
        tried.append(Tried(account, "issued"))
        output = _report(certificate, tried, chain) + issued.output if len(chain) > 1 else issued.output
        return replace(issued, output=output, ca_account_id=account.pk, ca_account_name=account.name)
    raise _none_issued(certificate, tried, chain)


def _window_claim(account: CaAccount) -> Tried | None:
    """None, and the order counted in the account's window (under its row lock: concurrent orders count
    one by one), when the window has room; the skip otherwise."""
    now = timezone.now()
    with transaction.atomic():
        wait = ca_account_order_wait(ca_account_id=account.pk, now=now)
        if wait is None:
            FallbackOrder.objects.create(ca_account=account, started_at=now)
            # Only the window is ever counted: what fell out of it goes (the account's row is locked).
            window = timedelta(seconds=settings.CERTMATE_ORDER_WINDOW_SECONDS)
            FallbackOrder.objects.filter(ca_account=account, started_at__lt=now - window).delete()
            return None
    refused = EngineError(f"{wait.progress} (again in {wait.seconds:.0f} s)", transient=True, retry_after=wait.seconds)
    return Tried(account, "skipped", refused)


def _report(certificate: Certificate, tried: list[Tried], chain: list[CaAccount]) -> str:
    """Which CA accounts were tried and how, then each one's certbot output."""
    lines = [f"Issuer fallback for {certificate.identifier}: {len(tried)} of {len(chain)} CA accounts tried"]
    lines += [f"{number}. {attempt.line()}" for number, attempt in enumerate(tried, start=1)]
    for attempt in tried:
        if attempt.error is not None and attempt.error.output:
            lines += ["", f"== CA account {attempt.account.name!r} ==", attempt.error.output.rstrip()]
    lines += ["", f"== CA account {tried[-1].account.name!r} ==", ""] if tried[-1].error is None else [""]
    return "\n".join(lines)


def _none_issued(certificate: Certificate, tried: list[Tried], chain: list[CaAccount]) -> EngineError:
    last = tried[-1].error
    reason = last.reason  # one CA account tried: its own words
    if len(tried) > 1:
        # One line for all: each account's share of it; the whole reasons are in the output.
        budget = max(40, (untrusted.MAX_REASON_CHARS - len(certificate.identifier)) // len(tried) - 3)
        reasons = [untrusted.one_line(f"CA account {t.account.name!r} {t.result}: {t.error.reason}") for t in tried]
        reason = "; ".join(text if len(text) <= budget else text[: budget - 1] + "…" for text in reasons)
    output = last.output if len(chain) == 1 else _report(certificate, tried, chain)
    return EngineError(
        f"{certificate.identifier}: {reason}",
        output,
        transient=last.transient,
        retry_after=last.retry_after,
        code=last.code,
    )
