"""What a rule yields: a fact that should be alerted on now."""

import hashlib
from dataclasses import dataclass, field

import orjson


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


_AS_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def as_json(value) -> str:
    """The one serialization of details and links: written as is, and hashed (keys sorted, so
    the text read back from the database hashes the same). orjson: a bad day serializes every
    alarm's checklist, and the standard encoder was a tenth of the evaluating process's CPU."""
    return orjson.dumps(value, option=_AS_JSON).decode()


def content_hash(title: str, details_json: str, links_json: str) -> str:
    """What a kept alert is compared by (R5.3): its title, details and links, in one value."""
    return hashlib.sha1(f"{title}\x00{details_json}\x00{links_json}".encode()).hexdigest()


def alert_content_hash(title, details, links) -> str:
    return content_hash(title, as_json(details), as_json(links))
