"""/metrics and the probes, on the platform's host and on every tenant's host."""

from django.urls import path

from apps.metrics.views import METRICS_PATH, platform_metrics, tenant_metrics
from certmate import probes


def probe_and_metrics_urls(*, platform: bool) -> list:
    return [
        path("health/live", probes.live, name="health-live"),
        path("health/ready", probes.ready, name="health-ready"),
        path("health", probes.certmate_health, name="health-certmate"),
        path(METRICS_PATH, platform_metrics if platform else tenant_metrics, name="metrics"),
    ]
