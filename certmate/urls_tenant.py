"""URLs of a tenant's host (<slug>.localhost in development)."""

from django.urls import include, path, re_path

from apps.accounts.sites import tenant_admin_site
from apps.metrics.urls import probe_and_metrics_urls
from apps.portal.errors import NOT_FOUND_URL_NAME, unknown_url
from certmate.health import HEALTH_PATH, health

urlpatterns = [
    path(HEALTH_PATH.lstrip("/"), health, name="health"),
    *probe_and_metrics_urls(platform=False),
    path("admin/", tenant_admin_site.urls),
    path("sso/", include("apps.accounts.sso.urls")),
    # Public, without authentication: the private CAs' CRLs and certificates (/pki/<ca>/...).
    path("", include("apps.certificates.pki.publication_urls")),
    # The certificate endpoints (CertMate-compatible paths under /api/) and the rest of the API.
    path("", include("apps.certificates.api.batch_urls")),  # before api/certificates/<domain>
    # CertMate's endpoints certmate does not serve: 501 with the reason (before api/certificates/<domain>)
    path("", include("apps.certificates.api.unsupported")),
    path("", include("apps.certificates.api.urls")),
    path("api/", include("certmate.api.urls")),
    # The OCSP responder (RFC 6960), open to relying parties without credentials.
    path("", include("apps.certificates.pki.ocsp_urls")),
    # The tenant's web portal: /, /login/, /help/, ... (apps/portal).
    path("", include("apps.portal.urls")),
    # Last: any other path answers the portal's 404 page (or the API's JSON 404 under /api/), never
    # Django's debug page listing these patterns. Keep it at the end.
    re_path(r"^(?P<path>.*)$", unknown_url, name=NOT_FOUND_URL_NAME),
]

handler404 = "apps.portal.errors.page_not_found"
