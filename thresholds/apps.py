from django.apps import AppConfig


class ThresholdsConfig(AppConfig):
    name = "thresholds"
