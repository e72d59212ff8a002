from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from alerts import events
        from notifications.outbox import enqueue_for_events

        events.on_events(enqueue_for_events)
