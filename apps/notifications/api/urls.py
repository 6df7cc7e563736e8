"""Notification endpoints under /api/notifications/ on tenant hosts (no trailing slashes, like the rest)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.notifications.api import certmate, views

router = SimpleRouter(trailing_slash=False)
router.register("notifications/channels", views.ChannelViewSet, basename="api-notification-channel")
router.register("notifications/deliveries", views.DeliveryViewSet, basename="api-notification-delivery")

urlpatterns = [
    *router.urls,
    # CertMate's paths and shapes
    path("notifications/config", certmate.ConfigView.as_view(), name="api-certmate-notifications-config"),
    path("notifications/test", certmate.TestView.as_view(), name="api-certmate-notifications-test"),
    path("notifications/webhook/preview", certmate.PreviewView.as_view(), name="api-certmate-webhook-preview"),
    path("digest/send", certmate.DigestSendView.as_view(), name="api-certmate-digest-send"),
    path("webhooks/deliveries", certmate.DeliveriesView.as_view(), name="api-certmate-webhook-deliveries"),
]
