"""Token and single sign-on endpoints under /api/ on tenant hosts (no trailing slashes, like the certificate
endpoints)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.accounts.api import audit, audit_certmate, keys, sso, users, users_certmate, views

router = SimpleRouter(trailing_slash=False)
router.register("tokens", views.TokenViewSet, basename="api-token")
router.register("users", users.UserViewSet, basename="api-user")

urlpatterns = [
    path("sso", sso.SsoSettingsView.as_view(), name="api-sso"),
    path("audit", audit.AuditListView.as_view(), name="api-audit"),
    path("audit/export", audit.AuditExportView.as_view(), name="api-audit-export"),
    # CertMate's paths and shapes
    path("audit/verify", audit_certmate.AuditVerifyView.as_view(), name="api-audit-verify"),
    path("activity", audit_certmate.ActivityView.as_view(), name="api-activity"),
    path("keys", keys.KeyListView.as_view(), name="api-keys"),
    path("keys/<str:key_id>", keys.KeyDetailView.as_view(), name="api-key"),
    *router.urls,
    # CertMate's user edit by username (an e-mail here); ids (digits only) are the router's above
    path("users/<str:username>", users_certmate.CertMateUserView.as_view(), name="api-user-certmate"),
]
