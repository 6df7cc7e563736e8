"""Single sign-on on tenant hosts: /sso/login/ (to the tenant's identity provider) and /sso/callback/."""

from django.urls import path

from apps.accounts.sso import views
from apps.accounts.sso.backends import CALLBACK_URL_NAME

urlpatterns = [
    path("login/", views.SsoLoginView.as_view(), name="sso-login"),
    path("callback/", views.SsoCallbackView.as_view(), name=CALLBACK_URL_NAME),
]
