"""/api/ on tenant hosts: the OpenAPI schema and its docs (public: they describe the API, hold no data),
tokens and SSO, CA and DNS accounts, settings, storage, backups and notifications. The certificate endpoints
are included at the root by certmate/urls_tenant.py."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served from this URL (?script), so the page has no inline script."""

    template_name = "api/swagger_ui.html"  # its page styles carry the CSP nonce


# ReDoc injects its styles at run time and runs its search in a blob: worker: this page alone allows
# inline styles (never inline scripts).
@method_decorator(csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}), name="dispatch")
class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"  # without the web fonts of the stock page


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.certificates.api.accounts.urls")),
    path("", include("apps.storage.api.urls")),
    path("", include("apps.backups.api.urls")),
    path("", include("apps.notifications.api.urls")),
]
