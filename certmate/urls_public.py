"""URLs of the public host (localhost in development): the platform operators' console."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from apps.metrics.urls import probe_and_metrics_urls
from certmate.health import HEALTH_PATH, health

admin.site.site_header = "certmate platform"
admin.site.site_title = "certmate platform"
admin.site.index_title = "Tenants and platform operators"
admin.site.site_url = None  # no "View site": the public host serves no portal (each tenant's host does)

urlpatterns = [
    path(HEALTH_PATH.lstrip("/"), health, name="health"),
    *probe_and_metrics_urls(platform=True),
    path("admin/", admin.site.urls),
    # The public host has no portal: its root leads to the platform console, never a debug 404 page.
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="public-root"),
]
