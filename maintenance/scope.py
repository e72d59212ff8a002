"""Which subjects a window covers, and which windows are on at a moment (R16.1, R16.2).

A window over the account covers every subject, account-wide ones too; over organizations,
what belongs to them; over appliances, the appliances and their assets; over assets, those
assets.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from maintenance import occurrences
from maintenance.models import MaintenanceWindow


@dataclass
class Covered:
    """One window's occurrence and what it covers."""

    window: MaintenanceWindow
    occurrence: occurrences.Occurrence
    organizations: set = field(default_factory=set)
    appliances: set = field(default_factory=set)
    assets: set = field(default_factory=set)

    def covers(self, organization_id=None, appliance_id=None, asset_id=None) -> bool:
        scope = self.window.scope
        if scope == MaintenanceWindow.Scope.ACCOUNT:
            return True
        if scope == MaintenanceWindow.Scope.ORGANIZATIONS:
            return organization_id is not None and organization_id in self.organizations
        if scope == MaintenanceWindow.Scope.APPLIANCES:
            return appliance_id is not None and appliance_id in self.appliances
        return asset_id is not None and asset_id in self.assets


def _with_members(window, occurrence) -> Covered:
    covered = Covered(window, occurrence)
    scope = window.scope
    if scope == MaintenanceWindow.Scope.ORGANIZATIONS:
        covered.organizations = set(window.organizations.values_list("pk", flat=True))
    elif scope == MaintenanceWindow.Scope.APPLIANCES:
        covered.appliances = set(window.appliances.values_list("pk", flat=True))
    elif scope == MaintenanceWindow.Scope.ASSETS:
        covered.assets = set(window.assets.values_list("pk", flat=True))
    return covered


def _computable(window, compute):
    try:
        return compute(window)
    except occurrences.WindowError:  # a window saved before a zone was retired: it holds nothing
        return None


def active(account, now) -> list[Covered]:
    """The windows of `account` on at `now`, each with what it covers."""
    found = []
    for window in MaintenanceWindow.objects.filter(account=account, starts_at__lte=now):
        occurrence = _computable(window, lambda w: occurrences.current(w, now))
        if occurrence is not None:
            found.append(_with_members(window, occurrence))
    return found


def soon(account, now, within=timedelta(hours=24)) -> list[Covered]:
    """R16.3: the windows on at `now` or starting within `within`, each with its next (or
    current) occurrence and what it covers."""
    found = []
    for window in MaintenanceWindow.objects.filter(account=account, starts_at__lt=now + within):
        listed = _computable(window, lambda w: occurrences.upcoming(w, now, 1, within))
        if listed:
            found.append(_with_members(window, listed[0]))
    return sorted(found, key=lambda c: (c.occurrence.start, c.window.name))


def ending(account, now, until) -> list[Covered]:
    """The windows whose current or next occurrence ends after `now` and by `until`."""
    found = []
    for window in MaintenanceWindow.objects.filter(account=account, starts_at__lt=until):
        listed = _computable(window, lambda w: occurrences.upcoming(w, now, 1, until - now))
        if listed and listed[0].end <= until:
            found.append(_with_members(window, listed[0]))
    return found
