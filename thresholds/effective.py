"""The threshold in force for an organization, and where it comes from (R4).

A custom threshold assigned to the organization wins over the global one
(R4.2); without one the global threshold applies (R4.4). Without a global
threshold there are no conditional alarms at all (R4.1), so the answer is None
for an organization that has no custom threshold either.

`effective_threshold(org)` answers one organization (the organization page,
the threshold page); `effective_thresholds(account)` answers the whole
account in two queries, for the rules.
"""

from dataclasses import dataclass

from thresholds.models import GlobalThreshold, ThresholdAssignment

GLOBAL = "global"
CUSTOM = "custom"


@dataclass(frozen=True)
class Effective:
    backups_enabled: bool
    backups_hours: int
    hot_copy_enabled: bool
    hot_copy_hours: int
    azure_hours: int
    source: str  # GLOBAL or CUSTOM
    name: str = ""  # the custom threshold's name
    threshold_id: int | None = None

    @property
    def origin(self) -> str:
        """Where the hours come from, as people read it: "global" or "custom threshold 'Servers'"."""
        return GLOBAL if self.source == GLOBAL else f"custom threshold '{self.name}'"

    def describe(self, hours: int) -> str:
        """"4 h — custom threshold 'Servers'" or "24 h — global"."""
        return f"{hours} h — {self.origin}"

    @property
    def backups_label(self) -> str:
        return self.describe(self.backups_hours)

    @property
    def hot_copy_label(self) -> str:
        return self.describe(self.hot_copy_hours)

    @property
    def azure_label(self) -> str:
        return self.describe(self.azure_hours)


def _from(threshold, source) -> Effective:
    return Effective(
        backups_enabled=threshold.backups_enabled,
        backups_hours=threshold.backups_hours,
        hot_copy_enabled=threshold.hot_copy_enabled,
        hot_copy_hours=threshold.hot_copy_hours,
        azure_hours=threshold.azure_hours,
        source=source,
        name=getattr(threshold, "name", ""),
        threshold_id=threshold.pk if source == CUSTOM else None,
    )


def global_threshold(account) -> Effective | None:
    threshold = GlobalThreshold.objects.filter(account=account).first()
    return _from(threshold, GLOBAL) if threshold else None


def effective_threshold(organization) -> Effective | None:
    """The organization's threshold and its origin; None when neither a custom nor a global one exists."""
    assignment = (
        ThresholdAssignment.objects.select_related("threshold")
        .filter(organization=organization, threshold__account_id=organization.account_id)
        .first()
    )
    if assignment is not None:
        return _from(assignment.threshold, CUSTOM)
    return global_threshold(organization.account_id)


@dataclass(frozen=True)
class AccountThresholds:
    """Every organization's threshold for one account: custom ones by organization, else global."""

    global_: Effective | None
    custom: dict[int, Effective]

    def for_organization(self, organization_id: int) -> Effective | None:
        return self.custom.get(organization_id, self.global_)


def effective_thresholds(account) -> AccountThresholds:
    """Set-based variant for the rules: two queries whatever the number of organizations."""
    assignments = ThresholdAssignment.objects.select_related("threshold").filter(
        threshold__account=account
    )
    return AccountThresholds(
        global_=global_threshold(account),
        custom={a.organization_id: _from(a.threshold, CUSTOM) for a in assignments},
    )
