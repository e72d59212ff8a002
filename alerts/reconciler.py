"""Diff the conditions a rule wants against the open alerts, in one transaction.

Raise what is new, resolve what cleared, keep the rest (updating details that
changed), and keep quiet for a fingerprint that a person dismissed within the
re-alert interval (R11.4). A kept alert follows its subject's organization,
group and label (R15.1); a retired appliance's conditions are held back, and an
alert whose subject was removed resolves as `subject_removed` (R15.2, see
alerts.lifecycle). The partial unique index makes a second writer's
raise a no-op (R14.2); state changes are compare-and-swap, and only the winner
writes the event.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q

from alerts import events, lifecycle
from alerts.conditions import Condition
from alerts.models import Alert, AlertEvent, AlertSettings, AlertState
from inventory.models import Appliance
from inventory.versions import supports_category_toggles

CHUNK = 500  # rows per statement when many alerts change at once


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
    planned.raise_ = _not_quiet(account, [c for fp, c in wanted.items() if fp not in open_alerts], now)
    return planned


def reconcile(account, kinds, conditions, now, resolve_reason="cleared", subset=None) -> Outcome:
    """Make the open alerts of `kinds` (within `subset`, see `diff`) match `conditions` at `now`."""
    outcome = Outcome()
    with transaction.atomic():
        planned = diff(account, kinds, conditions, now, resolve_reason, subset)
        for reason, alerts in planned.resolve:
            outcome.resolved += len(resolve(alerts, now, reason))
        outcome.kept = len(planned.kept)
        _refresh(planned.kept)
        lifecycle.follow(planned.kept, now)  # R15.1
        outcome.raised = sum(len(chunk) for chunk in _raise_in_chunks(account, planned.raise_, now))
    return outcome


def resolve(alerts, now, reason="cleared", actor=None) -> list[Alert]:
    """Resolve open alerts (compare-and-swap); answers those this call resolved."""
    if not alerts:
        return []
    ids = [a.pk for a in alerts]
    resolved = []
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            won = list(
                Alert.objects.filter(pk__in=ids[start:start + CHUNK], state=AlertState.OPEN)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
            Alert.objects.filter(pk__in=won, state=AlertState.OPEN).update(
                state=AlertState.RESOLVED, resolved_at=now, resolved_reason=reason
            )
            chunk = list(Alert.objects.filter(pk__in=won))
            events.record(chunk, AlertEvent.Type.RESOLVED, now, actor=actor, reason=reason)
            resolved.extend(chunk)
    return resolved


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


def _refresh(pairs) -> None:
    """R5.3: a kept alert follows its condition's details (e.g. the count of missed starts)."""
    changed = []
    for alert, condition in pairs:
        if alert.details != condition.details or alert.links != condition.links or alert.title != condition.title:
            alert.details, alert.links, alert.title = condition.details, condition.links, condition.title
            changed.append(alert)
    if changed:
        Alert.objects.bulk_update(changed, ["details", "links", "title"], batch_size=1000)


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
            fingerprint__in=[c.fingerprint for c in conditions],
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


_COLUMNS = (
    "account_id", "fingerprint", "kind", "category", "organization_id", "appliance_id", "asset_id",
    "subject", "title", "group_key", "group_label", "state", "raised_at", "details", "links",
    "dismiss_reason", "resolved_reason", "organization_name",
)


def raise_alerts(account, conditions: list[Condition], now) -> list[Alert]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: a fingerprint already open is skipped."""
    return [alert for chunk in _raise_in_chunks(account, conditions, now) for alert in chunk]


def _raise_in_chunks(account, conditions, now):
    """Raise chunk by chunk, each with its events and deliveries, so a storm of new
    alerts (every asset of an account at once) needs memory for one chunk only."""
    if not conditions:
        return
    fields = {f.attname: f for f in Alert._meta.concrete_fields}
    table = connection.ops.quote_name(Alert._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(fields[c].column) for c in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    with transaction.atomic():
        for start in range(0, len(conditions), CHUNK):
            batch = conditions[start:start + CHUNK]
            names = lifecycle.organization_names(c.organization_id for c in batch)  # R15.2: kept as it was
            params = []
            for c in batch:
                group_key, group_label = lifecycle.group_of(c)
                values = {
                    "account_id": account.pk, "fingerprint": c.fingerprint, "kind": c.kind,
                    "category": c.category, "organization_id": c.organization_id,
                    "appliance_id": c.appliance_id, "asset_id": c.asset_id, "subject": c.subject,
                    "title": c.title, "group_key": group_key,
                    "group_label": group_label, "state": AlertState.OPEN,
                    "raised_at": now, "details": c.details, "links": c.links,
                    "dismiss_reason": "", "resolved_reason": "",
                    "organization_name": names.get(c.organization_id, ""),
                }
                params.extend(fields[col].get_db_prep_save(values[col], connection) for col in _COLUMNS)
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "
                f"ON CONFLICT DO NOTHING RETURNING {connection.ops.quote_name('id')}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                ids = [r[0] for r in cursor.fetchall()]
            raised = list(Alert.objects.filter(pk__in=ids))
            events.record(raised, AlertEvent.Type.RAISED, now)
            yield raised
