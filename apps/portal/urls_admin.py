"""The portal's administration pages: accounts, private CAs and profiles, storage, notifications, settings,
API tokens, users, audit log. Included by apps/portal/urls.py inside the ``portal`` namespace; each area's list is
named after its navigation key (apps/portal/navigation.py), which puts it in the menu."""

from django.urls import path

from apps.portal import accounts, audit, cas, configuration, notifications, tokens, users

CA = "cas/<int:pk>/"
CHANNEL = "notifications/<int:pk>/"

urlpatterns = [
    path("accounts/", accounts.AccountsView.as_view(), name="accounts"),
    path("accounts/ca/add/", accounts.CaAccountPage.as_view(), name="ca-account-add"),
    path("accounts/ca/<int:pk>/", accounts.CaAccountPage.as_view(), name="ca-account"),
    path("accounts/ca/<int:pk>/delete/", accounts.CaAccountDeleteView.as_view(), name="ca-account-delete"),
    path("accounts/dns/add/", accounts.DnsAccountPage.as_view(), name="dns-account-add"),
    path("accounts/dns/<int:pk>/", accounts.DnsAccountPage.as_view(), name="dns-account"),
    path("accounts/dns/<int:pk>/test/", accounts.DnsAccountTestView.as_view(), name="dns-account-test"),
    path("accounts/dns/<int:pk>/delete/", accounts.DnsAccountDeleteView.as_view(), name="dns-account-delete"),
    path("cas/", cas.CaListView.as_view(), name="cas"),
    path("cas/add/", cas.CaCreateView.as_view(), name="ca-add"),
    path(CA, cas.CaDetailView.as_view(), name="ca"),
    path(f"{CA}<str:action>/", cas.CaActionView.as_view(), name="ca-action"),
    path(f"{CA}profiles/add/", cas.ProfilePage.as_view(), name="profile-add"),
    path(f"{CA}profiles/<int:profile>/", cas.ProfilePage.as_view(), name="profile"),
    path(f"{CA}profiles/<int:profile>/delete/", cas.ProfileDeleteView.as_view(), name="profile-delete"),
    path("storage/", configuration.StorageView.as_view(), name="storage"),
    path("storage/test/", configuration.StorageTestView.as_view(), name="storage-test"),
    path("notifications/", notifications.ChannelsView.as_view(), name="notifications"),
    path("notifications/add/", notifications.ChannelPage.as_view(), name="notification-add"),
    path("notifications/deliveries/", notifications.DeliveriesView.as_view(), name="notification-deliveries"),
    path(CHANNEL, notifications.ChannelPage.as_view(), name="notification"),
    path(f"{CHANNEL}test/", notifications.ChannelTestView.as_view(), name="notification-test"),
    path(f"{CHANNEL}rotate-secret/", notifications.ChannelRotateView.as_view(), name="notification-rotate"),
    path(f"{CHANNEL}unflag/", notifications.ChannelUnflagView.as_view(), name="notification-unflag"),
    path(f"{CHANNEL}delete/", notifications.ChannelDeleteView.as_view(), name="notification-delete"),
    path("settings/", configuration.SettingsView.as_view(), name="settings"),
    path("tokens/", tokens.TokensView.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.TokenRevokeView.as_view(), name="token-revoke"),
    path("users/", users.UsersView.as_view(), name="users"),
    path("users/add/", users.UserAddView.as_view(), name="user-add"),
    path("users/<int:pk>/", users.UserChangeView.as_view(), name="user"),
    path("users/<int:pk>/delete/", users.UserDeleteView.as_view(), name="user-delete"),
    path("audit/", audit.AuditView.as_view(), name="audit"),
]
