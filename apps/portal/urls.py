"""The portal's pages on tenant hosts (included at the root by certmate/urls_tenant.py). Add a page
here with a name the navigation knows (apps/portal/navigation.py) to put it in the menu."""

from django.urls import include, path

from apps.portal import auth, dashboard, help
from apps.portal.certificates import actions, bulk, detail, downloads, listing, requesting

app_name = "portal"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("jobs/recent/", dashboard.JobsView.as_view(), name="jobs"),
    path("help/", help.HelpView.as_view(), name="help"),
    path("certificates/", listing.CertificateListView.as_view(), name="certificates"),
    path("certificates/bulk/", bulk.BulkView.as_view(), name="certificates-bulk"),
    path("certificates/request/", requesting.RequestView.as_view(), name="request"),
    path("certificates/<int:pk>/", detail.CertificateDetailView.as_view(), name="certificate"),
    path("certificates/<int:pk>/jobs/", detail.CertificateJobsView.as_view(), name="certificate-jobs"),
    path("certificates/<int:pk>/settings/", detail.CertificateSettingsView.as_view(), name="certificate-settings"),
    path("certificates/<int:pk>/renew/", actions.RenewView.as_view(), name="certificate-renew"),
    path("certificates/<int:pk>/revoke/", actions.RevokeView.as_view(), name="certificate-revoke"),
    path("certificates/<int:pk>/delete/", actions.DeleteView.as_view(), name="certificate-delete"),
    path(
        "certificates/<int:pk>/versions/<int:number>/unhold/", actions.UnholdView.as_view(), name="certificate-unhold"
    ),
    path("certificates/<int:pk>/download/", downloads.KeyDownloadView.as_view(), name="certificate-key"),
    path("certificates/<int:pk>/download/<str:file>/", downloads.PublicFileView.as_view(), name="certificate-file"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("", include("apps.portal.urls_admin")),  # accounts, CAs, storage, notifications, settings, ...
]
