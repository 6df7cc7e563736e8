"""URLs of a tenant's host (<slug>.localhost in development)."""

from django.urls import include, path

from apps.accounts.sites import tenant_admin_site
from certmate.health import HEALTH_PATH, health

urlpatterns = [
    path(HEALTH_PATH.lstrip("/"), health, name="health"),
    path("admin/", tenant_admin_site.urls),
    path("sso/", include("apps.accounts.sso.urls")),
    # The certificate endpoints (CertMate-compatible paths under /api/) and the rest of the API.
    path("", include("apps.certificates.api.batch_urls")),  # before api/certificates/<domain>
    path("", include("apps.certificates.api.urls")),
    path("api/", include("certmate.api.urls")),
    # The OCSP responder (RFC 6960), open to relying parties without credentials.
    path("", include("apps.certificates.pki.ocsp_urls")),
]

handler404 = "certmate.api.views.api_page_not_found"
