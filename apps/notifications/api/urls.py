"""Notification endpoints under /api/notifications/ on tenant hosts (no trailing slashes, like the rest)."""

from rest_framework.routers import SimpleRouter

from apps.notifications.api import views

router = SimpleRouter(trailing_slash=False)
router.register("notifications/channels", views.ChannelViewSet, basename="api-notification-channel")
router.register("notifications/deliveries", views.DeliveryViewSet, basename="api-notification-delivery")

urlpatterns = router.urls
