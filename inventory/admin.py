from django.contrib import admin

from inventory.models import Appliance, Asset, AzureAsset, Backup, BackupCopy, Job, SaasSource

for model in (Appliance, Asset, Backup, BackupCopy, Job, SaasSource, AzureAsset):
    admin.site.register(model)
