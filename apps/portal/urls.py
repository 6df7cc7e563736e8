"""The portal's pages on tenant hosts (included at the root by certmate/urls_tenant.py). Add a page
here with a name the navigation knows (apps/portal/navigation.py) to put it in the menu."""

from django.urls import include, path

from apps.portal import auth, dashboard, help

app_name = "portal"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("jobs/recent/", dashboard.JobsView.as_view(), name="jobs"),
    path("help/", help.HelpView.as_view(), name="help"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("", include("apps.portal.urls_admin")),  # accounts, CAs, storage, settings, tokens, users, audit
]
