"""A window's end is a moment to check (R16.2, invariant 8): the assets a window covers are
due when it ends, so the next evaluation raises what still holds. A window saved, changed or
removed makes its account's assets due, so their next moment is computed again with it."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from inventory import due
from inventory.models import Asset
from maintenance import scope
from maintenance.models import MaintenanceWindow


def window_ends(account, now, asset_ids, until) -> dict:
    """{asset id: the end of the window covering it} for the windows ending after `now` and
    by `until` (the earliest, where several do)."""
    windows = scope.ending(account, now, until)
    if not windows or not asset_ids:
        return {}
    ends = {}
    rows = Asset.objects.filter(pk__in=list(asset_ids)).values_list("pk", "organization_id", "appliance_id")
    for asset_id, organization_id, appliance_id in rows.iterator(chunk_size=5000):
        for covered in windows:
            if covered.covers(organization_id, appliance_id, asset_id):
                end = covered.occurrence.end
                if asset_id not in ends or end < ends[asset_id]:
                    ends[asset_id] = end
    return ends


def _window_changed(sender, instance, **kwargs):
    if isinstance(instance, MaintenanceWindow):
        due.account_changed(instance.account_id)


def connect() -> None:
    post_save.connect(_window_changed, sender=MaintenanceWindow, dispatch_uid="maintenance-window-saved")
    post_delete.connect(_window_changed, sender=MaintenanceWindow, dispatch_uid="maintenance-window-deleted")
    for through in (MaintenanceWindow.organizations.through, MaintenanceWindow.appliances.through,
                    MaintenanceWindow.assets.through):
        m2m_changed.connect(_window_changed, sender=through, dispatch_uid=f"maintenance-{through.__name__}")
