"""What a rule yields: a fact that should be alerted on now."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str
    title: str
    organization_id: int | None
    category: str = ""
    group_key: str = ""
    group_label: str = ""
    appliance_id: int | None = None
    asset_id: int | None = None
    details: dict = field(default_factory=dict, hash=False, compare=False)
    links: dict = field(default_factory=dict, hash=False, compare=False)
    # R10.3-style quiet time for this kind after a dismissal; None: the account's interval.
    quiet_hours: int | None = None
    # R8.5: fingerprints this condition replaces; the reconciler resolves their open alerts
    # with reason `superseded` in the same transaction.
    supersedes: tuple = field(default=(), hash=False, compare=False)

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}:{self.subject}"
