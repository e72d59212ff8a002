"""What is protected and how: appliances, assets, schedules, backups, copies,
jobs, SaaS sources with their daily status, and Azure assets.

Rules read these tables set-wise, so every index leads with the account or the
asset and matches a rule's query. One module per concern; everything is named
here so `from inventory.models import Asset` reads the same wherever it lives.
"""

from inventory.models.appliances import Appliance, ApplianceAlert, ApplianceStorageSample
from inventory.models.assets import Asset, AssetType, BackupSchedule
from inventory.models.backups import GOOD_STATUSES, Backup, BackupCopy, Job
from inventory.models.next_checks import NextCheck
from inventory.models.saas import AzureAsset, DattoClient, SaasDailyStatus, SaasSource, SyncHealth

__all__ = [
    "GOOD_STATUSES",
    "Appliance",
    "ApplianceAlert",
    "ApplianceStorageSample",
    "Asset",
    "AssetType",
    "AzureAsset",
    "Backup",
    "BackupCopy",
    "BackupSchedule",
    "DattoClient",
    "Job",
    "NextCheck",
    "SaasDailyStatus",
    "SaasSource",
    "SyncHealth",
]
