from django.contrib import admin

from thresholds.models import CustomThreshold, GlobalThreshold

admin.site.register(GlobalThreshold)
admin.site.register(CustomThreshold)
