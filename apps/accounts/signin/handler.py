"""axes' database handler with certmate's several limits instead of axes' one, and bounded records."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Sum
from django.db.models.functions import Right

from apps.accounts.signin.rules import signin_rules

# axes appends each failure's query and form data to its attempt record; keep the newest this many
# characters, so a client failing on and on (each refusal restarts the cool-off) cannot grow one row.
RECORD_DATA_LIMIT = 4000


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

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None:
            AccessAttempt.objects.filter(
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
                user_agent=request.axes_user_agent,
            ).update(get_data=Right("get_data", RECORD_DATA_LIMIT), post_data=Right("post_data", RECORD_DATA_LIMIT))
