"""/api/ on tenant hosts: the OpenAPI schema and its docs (public: they describe the API, hold no data),
and the accounts endpoints. The certificate endpoints are included at the root by certmate/urls_tenant.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"  # without the web fonts of the stock page


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.storage.api.urls")),
]
