from django.apps import AppConfig


class ThresholdsConfig(AppConfig):
    name = "thresholds"

    def ready(self):
        # An organization shows and accepts `custom_threshold` without tenancy importing thresholds.
        from tenancy.serializers import ORGANIZATION_EXTENSIONS
        from thresholds.serializers import CustomThresholdExtension, EffectiveThresholdExtension

        for extension in (CustomThresholdExtension, EffectiveThresholdExtension):
            if not any(e.name == extension.name for e in ORGANIZATION_EXTENSIONS):
                ORGANIZATION_EXTENSIONS.append(extension())
