"""Token and single sign-on endpoints under /api/ on tenant hosts (no trailing slashes, like the certificate
endpoints)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.accounts.api import sso, views

router = SimpleRouter(trailing_slash=False)
router.register("tokens", views.TokenViewSet, basename="api-token")

urlpatterns = [
    path("sso", sso.SsoSettingsView.as_view(), name="api-sso"),
    *router.urls,
]
