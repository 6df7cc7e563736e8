"""axes' database handler with certmate's several limits instead of axes' one."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.db.models import Sum

from apps.accounts.signin.rules import signin_rules


class SigninHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """axes locks out when this number reaches its one limit (AXES_FAILURE_LIMIT, the per-username-
        and-address limit). Report failures on that scale: the limit minus the smallest budget left over
        all rules, so whichever rule runs out first locks, and an untouched client reports 0."""
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        budget = min(rule.limit - count for rule, count in zip(signin_rules(), counts, strict=True))
        return max(0, get_failure_limit(request, credentials) - budget)
