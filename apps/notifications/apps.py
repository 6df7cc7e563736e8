from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Who hears about certificates: channels (e-mail, webhook, chat and push services through Apprise),
    what they are told and each delivery's fate. Tenant schema."""

    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Subscribes to certificate events and joins the sweep here, once the models are loaded:
        # apps.certificates never imports notifications.
        from apps.notifications.consumers import register

        register()
