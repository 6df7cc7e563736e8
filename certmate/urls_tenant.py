"""URLs of a tenant's host (<slug>.localhost in development)."""

from django.urls import path

from apps.accounts.sites import tenant_admin_site
from certmate.health import HEALTH_PATH, health

urlpatterns = [
    path(HEALTH_PATH.lstrip("/"), health, name="health"),
    path("admin/", tenant_admin_site.urls),
]
