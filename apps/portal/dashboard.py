"""The dashboard (/): the tenant at a glance, read through selectors in a bounded number of queries
whatever the number of certificates, and its recent jobs as a fragment htmx refreshes while any is
queued or running."""

from __future__ import annotations

from apps.certificates.overview import (
    certificate_counts,
    certificates_expiring,
    jobs_any_open,
    jobs_recent,
    renewal_threshold_days,
)
from apps.certificates.pki.ca_selectors import ca_expiring
from apps.portal.base import PortalView
from apps.storage.selectors import publication_problems

CA_WARNING_DAYS = 90  # a CA's certificate ending this soon is named on the dashboard
EXPIRING_SHOWN = 10
JOBS_SHOWN = 8
JOBS_POLL_SECONDS = 3


def jobs_context() -> dict:
    jobs = jobs_recent(limit=JOBS_SHOWN)
    return {"jobs": jobs, "jobs_polling": jobs_any_open(jobs), "poll_seconds": JOBS_POLL_SECONDS}


class DashboardView(PortalView):
    title = "Dashboard"
    nav = "dashboard"
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        threshold = renewal_threshold_days()
        return super().get_context_data(
            counts=certificate_counts(threshold_days=threshold),
            expiring=certificates_expiring(within_days=threshold, limit=EXPIRING_SHOWN),
            storage=publication_problems(),
            cas_expiring=ca_expiring(within_days=CA_WARNING_DAYS),
            ca_warning_days=CA_WARNING_DAYS,
            **jobs_context(),
            **kwargs,
        )


class JobsView(PortalView):
    """The recent jobs alone: the fragment the dashboard polls (a page of its own without htmx)."""

    title = "Recent jobs"
    nav = "dashboard"
    template_name = "portal/jobs.html"
    partial_template_name = "portal/_jobs.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**jobs_context(), **kwargs)
