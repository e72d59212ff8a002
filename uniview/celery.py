"""The Celery app. Beat only nudges; the database holds what must happen."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uniview.settings")

app = Celery("uniview")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
