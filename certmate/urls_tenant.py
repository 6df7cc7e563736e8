"""URLs of a tenant's host (<slug>.localhost in development)."""

from django.urls import path

from apps.accounts.sites import tenant_admin_site
from certmate.health import health

urlpatterns = [
    path("api/health", health, name="health"),
    path("admin/", tenant_admin_site.urls),
]
