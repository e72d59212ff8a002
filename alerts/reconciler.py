"""Diff the conditions a rule wants against the open alerts, in one transaction.

Raise what is new, resolve what cleared, keep the rest (updating details that
changed), and keep quiet for a fingerprint that a person dismissed within the
re-alert interval (R11.4). A kept alert follows its subject's organization,
group and label (R15.1); a retired appliance's conditions are held back, and an
alert whose subject was removed resolves as `subject_removed` (R15.2, see
alerts.lifecycle). The partial unique index makes a second writer's
raise a no-op (R14.2); state changes are compare-and-swap, and only the winner
writes the event.

Set-based (issue 17): the conditions stream in batches and are never all held at once;
only the fingerprints wanted so far are (strings in a set), which is what "cleared" needs
at the end. Each batch is a few statements whatever its size: one INSERT … SELECT FROM
unnest for the new alerts (ON CONFLICT DO NOTHING), one for their events, one for their
deliveries (the outbox's receiver), one UPDATE for kept alerts whose content changed; and
resolutions are one UPDATE … RETURNING per batch. A kept alert is compared by its
`details_hash`, so a cycle with nothing changed reads no alert's JSON.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q

from alerts import events, lifecycle, storms
from alerts.conditions import as_json, content_hash
from alerts.maintenance import Hold
from alerts.models import Alert, AlertEvent, AlertSettings, AlertState
from alerts.set_writes import as_jsonb, batched, loaded, rows_source, skip_locked
from alerts.severity import severity
from inventory.models import Appliance
from inventory.versions import supports_category_toggles
from tenancy.arrays import one_of
from tenancy.models import Organization

BATCH = 5000  # conditions (and alerts) per batch: a few statements each, whatever the size


@dataclass
class Outcome:
    raised: int = 0
    resolved: int = 0
    kept: int = 0

    def add(self, other: "Outcome") -> None:
        self.raised += other.raised
        self.resolved += other.resolved
        self.kept += other.kept


@dataclass
class Diff:
    """What a reconcile would do: resolve (reason, alerts) pairs, keep (alert, condition) pairs, raise conditions."""

    resolve: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    raise_: list = field(default_factory=list)


def diff(account, kinds, conditions, now, resolve_reason="cleared", subset=None) -> Diff:
    """The diff between `conditions` and the open alerts of `kinds`, read only: the
    reconciler applies it, a replay at another time (R15.5) only answers it. `subset` (a Q
    on Alert) limits the open alerts compared to the subjects the rule was asked about:
    an alert outside it is neither kept nor resolved."""
    wanted = {c.fingerprint: c for c in lifecycle.in_service(account, conditions) if c.kind in kinds}
    open_alerts = {
        a.fingerprint: a
        for a in Alert.objects.filter(account=account, kind__in=kinds, state=AlertState.OPEN)
        .filter(subset if subset is not None else Q()).only(
            "id", "account_id", "fingerprint", "kind", "category", "appliance_id", "asset_id", "subject",
            "title", "details", "links", "organization_id", "organization_name", "group_key", "group_label",
        )
    }
    cleared = [a for fp, a in open_alerts.items() if fp not in wanted]
    replaced = {fp for c in wanted.values() for fp in c.supersedes}  # R8.5
    planned = Diff(resolve=[("superseded", [a for a in cleared if a.fingerprint in replaced])])
    cleared = [a for a in cleared if a.fingerprint not in replaced]
    planned.resolve.extend(_reasons(account, cleared, resolve_reason).items())
    planned.kept = [(open_alerts[fp], c) for fp, c in wanted.items() if fp in open_alerts]
    new = Hold(account, now, record=False).back([c for fp, c in wanted.items() if fp not in open_alerts])  # R16.2
    planned.raise_ = _not_quiet(account, new, now)
    return planned


class _Open(NamedTuple):
    """What a cycle knows of an open alert without reading its JSON."""

    pk: int
    details_hash: str
    organization_id: int | None
    group_key: str
    group_label: str
    clear_since: object  # a flapping alert clear since then (alerts.storms.Clearing), else None


def _open_alerts(account, kinds, subset=None) -> dict[str, _Open]:
    rows = Alert.objects.filter(account=account, kind__in=kinds, state=AlertState.OPEN)
    if subset is not None:
        rows = rows.filter(subset)
    rows = rows.order_by().values_list(
        "fingerprint", "pk", "details_hash", "organization_id", "group_key", "group_label", "clear_since"
    )
    return {row[0]: _Open(*row[1:]) for row in rows.iterator(chunk_size=10000)}


def reconcile(account, kinds, conditions, now, resolve_reason="cleared", batch_size=None, subset=None) -> Outcome:
    """Make the open alerts of `kinds` match `conditions` (any iterable, read once, batch by
    batch) at `now`. With `subset` (a Q on Alert), only the open alerts within it are compared:
    an evaluation of some assets never resolves another asset's alert (see `diff`)."""
    size = batch_size or BATCH
    outcome = Outcome()
    hold = Hold(account, now)  # R16.2: maintenance windows hold new conditions back
    with transaction.atomic():
        open_alerts = _open_alerts(account, kinds, subset)
        tally, clearing = storms.Tally(account), storms.Clearing()  # R17, flapping
        wanted, replaced = set(), set()
        for batch in batched(conditions, size):
            unique = {}  # a fingerprint repeated within a batch: the last counts; in a later batch: ignored
            for c in lifecycle.in_service(account, batch):
                if c.kind in kinds and c.fingerprint not in wanted:
                    unique[c.fingerprint] = c
            wanted.update(unique)
            for c in unique.values():
                replaced.update(c.supersedes)  # R8.5
            kept = [(open_alerts[fp], c) for fp, c in unique.items() if fp in open_alerts]
            outcome.kept += len(kept)
            _keep(kept, now)
            clearing.back([alert.pk for alert, _ in kept if alert.clear_since is not None])
            new = hold.back([c for fp, c in unique.items() if fp not in open_alerts])
            outcome.raised += len(_raise_batch(account, _not_quiet(account, new, now), now, tally))
        cleared = [alert.pk for fp, alert in open_alerts.items() if fp not in wanted]
        superseded = {alert.pk for fp, alert in open_alerts.items() if fp not in wanted and fp in replaced}
        del open_alerts, wanted
        for ids in batched(cleared, size):
            ids = clearing.settle(ids, now, resolve_reason, superseded)  # a flapping alert stays a while
            outcome.resolved += _resolve_cleared(account, ids, superseded, now, resolve_reason)
    return outcome


_CLEARED_FIELDS = ("id", "account_id", "fingerprint", "kind", "category", "appliance_id", "organization_id",
                   "organization_name")


def _resolve_cleared(account, ids, superseded, now, resolve_reason) -> int:
    alerts = list(Alert.objects.filter(pk__any_of=ids).only(*_CLEARED_FIELDS))
    count = len(resolve([a for a in alerts if a.pk in superseded], now, "superseded"))
    for reason, group in _reasons(account, [a for a in alerts if a.pk not in superseded], resolve_reason).items():
        count += len(resolve(group, now, reason))
    return count


def _keep(pairs, now) -> None:
    """R5.3: a kept alert follows its condition's details (e.g. the count of missed starts),
    compared by hash; R15.1: and its organization, group and label (alerts.lifecycle)."""
    changed, moving = [], []
    for alert, c in pairs:
        details, links = as_json(c.details), as_json(c.links)
        digest = content_hash(c.title, details, links)
        if digest != alert.details_hash:
            changed.append((alert.pk, c.title, severity(c.kind, c.details), digest, details, links))
        if (alert.organization_id, alert.group_key, alert.group_label) != (c.organization_id, *lifecycle.group_of(c)):
            moving.append((alert.pk, c))
    if changed:
        source, params = rows_source(
            [("id", "bigint"), ("title", "text"), ("severity", "text"), ("details_hash", "text"), ("details", "jsonb"),
             ("links", "jsonb")],
            changed,
        )
        table = Alert._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET title = v.title, severity = v.severity, details = {as_jsonb('v.details')}, "
                f"links = {as_jsonb('v.links')}, details_hash = v.details_hash FROM {source} WHERE {table}.id = v.id",
                params,
            )
    if moving:
        conditions = dict(moving)
        alerts = Alert.objects.filter(pk__any_of=conditions).only(
            "id", "account_id", "organization_id", "organization_name", "group_key", "group_label"
        )
        lifecycle.follow([(alert, conditions[alert.pk]) for alert in alerts], now)


def resolve(alerts, now, reason="cleared", actor=None) -> list[Alert]:
    """Resolve open alerts (compare-and-swap); answers those this call resolved.

    One UPDATE … RETURNING per batch: an alert another transaction holds (a dismissal
    under way) is skipped, one no longer open is not touched."""
    if not alerts:
        return []
    resolved = []
    with transaction.atomic():
        for ids in batched([a.pk for a in alerts], BATCH):
            won = _resolve_batch(ids, now, reason)
            events.record(won, AlertEvent.Type.RESOLVED, now, actor=actor, reason=reason)
            resolved.extend(won)
    return resolved


# Everything an event's receivers read; details and links load only if someone asks.
_RETURNED = [f.column for f in Alert._meta.concrete_fields if f.name not in ("details", "links")]


def _resolve_batch(ids, now, reason) -> list[Alert]:
    table = connection.ops.quote_name(Alert._meta.db_table)
    which, params = one_of("id", ids)
    moment = Alert._meta.get_field("resolved_at").get_db_prep_value(now, connection)
    sql = (
        f"UPDATE {table} SET state = %s, resolved_at = %s, resolved_reason = %s "
        f"WHERE id IN (SELECT id FROM {table} WHERE {which} AND state = %s{skip_locked()}) AND state = %s "
        f"RETURNING {', '.join(_RETURNED)}"
    )
    open_ = AlertState.OPEN
    won = list(Alert.objects.raw(sql, [AlertState.RESOLVED, moment, reason, *params, open_, open_]))
    return sorted(won, key=lambda alert: alert.pk)


def _reasons(account, cleared, default) -> dict[str, list[Alert]]:
    """R2.1: an alert whose category is switched off is withdrawn (`category_disabled`), not cleared."""
    if not cleared:
        return {}
    gone = lifecycle.removed(account, cleared) if default == "cleared" else set()  # R15.2
    toggles = AlertSettings.for_account(account) if default == "cleared" else None
    off = [a for a in cleared if toggles is not None and a.category and not toggles.category_enabled(a.category)]
    # R2.2: on an appliance older than 10.6.1 the toggle does not apply, so its alert simply cleared.
    versions = dict(Appliance.objects.filter(pk__in={a.appliance_id for a in off}).values_list("pk", "version"))
    withdrawn = {a.pk for a in off if a.appliance_id is None or supports_category_toggles(versions.get(a.appliance_id))}
    by_reason: dict[str, list[Alert]] = {}
    for alert in cleared:
        reason = "subject_removed" if alert.pk in gone else "category_disabled" if alert.pk in withdrawn else default
        by_reason.setdefault(reason, []).append(alert)
    return by_reason


def _not_quiet(account, conditions, now):
    """Drop conditions whose fingerprint was dismissed within its quiet time (R11.4, R10.3)."""
    if not conditions:
        return []
    default_hours = AlertSettings.for_account(account).realert_hours
    longest = max([default_hours] + [c.quiet_hours or 0 for c in conditions])
    recent = dict(
        Alert.objects.filter(
            account=account,
            state=AlertState.DISMISSED,
            fingerprint__any_of=[c.fingerprint for c in conditions],
            dismissed_at__gt=now - timedelta(hours=longest),
        )
        .order_by("fingerprint", "dismissed_at")
        .values_list("fingerprint", "dismissed_at")
    )
    loud = []
    for condition in conditions:
        dismissed_at = recent.get(condition.fingerprint)
        quiet = timedelta(hours=condition.quiet_hours or default_hours)
        if dismissed_at is None or dismissed_at + quiet <= now:
            loud.append(condition)
    return loud


_NEW = [
    ("fingerprint", "text"), ("kind", "text"), ("category", "text"), ("organization_id", "bigint"),
    ("appliance_id", "bigint"), ("asset_id", "bigint"), ("subject", "text"), ("title", "text"),
    ("group_key", "text"), ("group_label", "text"), ("details_hash", "text"), ("severity", "text"),
    ("details", "jsonb"), ("links", "jsonb"),
]


def raise_alerts(account, conditions, now) -> list[Alert]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: a fingerprint already open is skipped."""
    raised = []
    with transaction.atomic():
        for batch in batched(conditions, BATCH):
            raised += _raise_batch(account, batch, now)
    return raised


def _raise_batch(account, conditions, now, tally=None) -> list[Alert]:
    """One batch of new alerts in one statement, then their events (and, through the
    outbox's receiver, their deliveries): a storm needs memory for one batch only."""
    if not conditions:
        return []
    rows = {}
    for c in conditions:
        details, links = as_json(c.details), as_json(c.links)
        group_key, group_label = lifecycle.group_of(c)
        rows[c.fingerprint] = (
            c.fingerprint, c.kind, c.category, c.organization_id, c.appliance_id, c.asset_id, c.subject, c.title,
            group_key, group_label, content_hash(c.title, details, links), severity(c.kind, c.details), details, links,
        )
    by_fingerprint = {c.fingerprint: c for c in conditions}
    source, params = rows_source(_NEW, list(rows.values()))
    table = connection.ops.quote_name(Alert._meta.db_table)
    organizations = connection.ops.quote_name(Organization._meta.db_table)
    moment = Alert._meta.get_field("raised_at").get_db_prep_value(now, connection)
    sql = (
        f"INSERT INTO {table} (account_id, fingerprint, kind, category, organization_id, organization_name, "
        "appliance_id, asset_id, subject, title, group_key, group_label, state, raised_at, details, links, "
        "details_hash, severity, dismiss_reason, resolved_reason) "
        "SELECT %s, v.fingerprint, v.kind, v.category, v.organization_id, COALESCE(o.name, ''), v.appliance_id, "
        f"v.asset_id, v.subject, v.title, v.group_key, v.group_label, %s, %s, {as_jsonb('v.details')}, "
        f"{as_jsonb('v.links')}, v.details_hash, v.severity, '', '' "
        f"FROM {source} LEFT JOIN {organizations} o ON o.id = v.organization_id "
        "WHERE true ON CONFLICT DO NOTHING RETURNING id, fingerprint, organization_name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, AlertState.OPEN, moment, *params])
        written = sorted(cursor.fetchall())
    raised, alias = [], connection.alias
    for pk, fingerprint, organization_name in written:
        c, row = by_fingerprint[fingerprint], rows[fingerprint]
        values = {
            "id": pk, "account_id": account.pk, "fingerprint": fingerprint, "kind": c.kind, "category": c.category,
            "organization_id": c.organization_id, "organization_name": organization_name,
            "appliance_id": c.appliance_id, "asset_id": c.asset_id, "subject": c.subject, "title": c.title,
            "group_key": row[8], "group_label": row[9], "state": AlertState.OPEN, "raised_at": now,
            "resolved_at": None, "resolved_reason": "", "dismissed_at": None, "dismissed_by_id": None,
            "dismiss_reason": "", "details": c.details, "links": c.links, "details_hash": row[10],
            "severity": row[11], "storm_id": None, "held_by_id": None, "flapping": False, "clear_since": None,
        }
        alert = loaded(Alert, values, alias)
        alert._state.fields_cache["account"] = account
        raised.append(alert)
    storms.on_raise(account, raised, now, tally)  # R17: storms, vendor incidents, flapping
    events.record(raised, AlertEvent.Type.RAISED, now)
    return raised
