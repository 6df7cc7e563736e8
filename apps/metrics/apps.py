from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """/metrics for Prometheus: read from every tenant's tables at scrape time. No models."""

    name = "apps.metrics"
    label = "metrics"
    verbose_name = "Metrics"
