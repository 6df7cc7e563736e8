"""/api/cas routes (tenant hosts, no trailing slash like the other API paths), included by
apps/certificates/api/urls.py. Fixed words (import, external) come before {ca}."""

from django.urls import path

from apps.certificates.api.pki import profiles, revocations, views

CA = "api/cas/<str:ca>"

urlpatterns = [
    path("api/cas", views.CaListView.as_view(), name="ca-list"),
    path("api/cas/import", views.CaImportView.as_view(), name="ca-import"),
    path("api/cas/external", views.CaExternalView.as_view(), name="ca-external"),
    path(CA, views.CaDetailView.as_view(), name="ca-detail"),
    path(f"{CA}/upload", views.CaUploadView.as_view(), name="ca-upload"),
    path(f"{CA}/certificate", views.CaCertificateView.as_view(), name="ca-certificate"),
    path(f"{CA}/default", views.CaDefaultView.as_view(), name="ca-default"),
    *(
        path(f"{CA}/{action}", views.state_view(action, summary), name=f"ca-{action}")
        for action, summary in (
            ("disable", "Disable a CA: it issues nothing until enabled (admin)"),
            ("enable", "Enable a disabled CA again (admin)"),
            ("retire", "Retire a CA for good: it issues nothing again; what it issued stays valid (admin)"),
        )
    ),
    path(f"{CA}/revoke", revocations.CaRevokeView.as_view(), name="ca-revoke"),
    path(f"{CA}/revocations", revocations.BulkRevocationListView.as_view(), name="ca-revocation-list"),
    path(
        f"{CA}/revocations/<int:bulk_id>", revocations.BulkRevocationDetailView.as_view(), name="ca-revocation-detail"
    ),
    path(f"{CA}/profiles", profiles.ProfileListView.as_view(), name="ca-profile-list"),
    path(f"{CA}/profiles/<str:profile>", profiles.ProfileDetailView.as_view(), name="ca-profile-detail"),
]
