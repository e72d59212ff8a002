"""Noise control when alerts are raised and resolved (R17, docs/noise-control.md).

- Storms (R17.1): when one evaluation raises more than `storm_threshold` alerts of one kind and
  root cause in one organization, an `alert_storm` alert is raised for them and each joins it
  (`Alert.storm`). The outbox sends a member's ticket and email through the storm alert only:
  one ticket and one email per organization, kind and cause, whose idempotency is the storm
  alert's own (one open alert per fingerprint, the ticket found by its ref after a crash).
  Members joining later or resolving add an `updated` event to the storm (a note on its
  ticket); the last one resolving resolves the storm (its ticket closes like any other).
- Vendor incidents (R17.2): an alert that an open `vendor_incident` explains (its
  organization and kind are in the incident's details) is held (`Alert.held_by`) and fans out
  nothing; when the incident ends, the held alerts still open fan out their raise.
- Flapping: an alert raised again after more than `flapping_raises` resolutions of its
  fingerprint in the last 24 hours is flagged `flapping`; the reconciler then keeps it open
  until its condition has stayed clear for FLAPPING_CLEAR (`settle`).

The reconciler calls `on_raise` for each batch it raises, before the batch's events are
written, and `settle` / `back` around its resolutions; `on_events` listens to
`events_recorded` for the resolutions.
"""

from collections import defaultdict
from datetime import timedelta

from django.db import connection
from django.db.models import Count

from alerts import events
from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.models import Alert, AlertEvent, AlertSettings, AlertState
from alerts.rules.alarm_checklist import ROOT_CAUSES
from alerts.set_writes import rows_source

STORM_KIND = "alert_storm"
INCIDENT_KIND = "vendor_incident"
NOISE_KINDS = {STORM_KIND, INCIDENT_KIND}
FLAPPING_WINDOW = timedelta(hours=24)
FLAPPING_CLEAR = timedelta(hours=1)  # a flapping alert resolves once clear this long
NAMED = 10  # alerts named one by one in a storm's note; the rest are counted


def cause_of(alert) -> str:
    """The root cause alerts of one kind share: a conditional alarm's `root_cause`, else the
    reason or level its rule gives, else none (every alert of the kind has the same cause)."""
    details = alert.details or {}
    return str(details.get("root_cause") or details.get("reason") or details.get("level") or "")


def cause_label(kind, cause) -> str:
    if kind in ("backup_alarm", "hot_copy_alarm") and cause in ROOT_CAUSES:
        return ROOT_CAUSES[cause][0]
    return cause.replace("_", " ")


class Tally:
    """What one evaluation raised so far, per (organization, kind, cause): the alerts sent on
    their own while the count stayed within the threshold, and the storms opened or joined."""

    def __init__(self, account):
        self.account = account
        self._settings = None
        self.alone: dict[tuple, list[int]] = defaultdict(list)
        self.storms: dict[tuple, Alert] = {}
        self.opened: set[int] = set()
        self._explained = None

    @property
    def explained(self) -> dict[tuple, int]:
        """{(organization id, kind): incident id} of the open vendor incidents, read once per
        reconcile (the incident rule runs before the rules whose alerts it explains)."""
        if self._explained is None:
            self._explained = {}
            incidents = Alert.objects.filter(account=self.account, kind=INCIDENT_KIND, state=AlertState.OPEN)
            for pk, details in incidents.values_list("pk", "details"):
                for kind in details.get("explains", []):
                    for organization_id in details.get("organization_ids", []):
                        self._explained.setdefault((organization_id, kind), pk)
        return self._explained

    @property
    def settings(self) -> AlertSettings:
        if self._settings is None:  # read at the first raise: a quiet cycle reads nothing more
            self._settings = AlertSettings.for_account(self.account)
        return self._settings


def on_raise(account, raised, now, tally=None) -> None:
    """Before the raised events of a batch are written: mark flapping alerts, hold what an open
    vendor incident explains, and group storms (the outbox reads the marks)."""
    plain = [a for a in raised if a.kind not in NOISE_KINDS]
    if not plain:
        return
    tally = tally or Tally(account)
    _mark_flapping(account, plain, now, tally.settings.flapping_raises)
    _hold(plain, tally.explained)
    loud = [a for a in plain if a.held_by_id is None and a.organization_id is not None]
    if tally.settings.storm_threshold and loud:
        group(account, loud, now, tally)


def _mark_flapping(account, alerts, now, limit) -> None:
    counts = dict(
        Alert.objects.filter(
            account=account, fingerprint__any_of=[a.fingerprint for a in alerts], state=AlertState.RESOLVED,
            resolved_at__gt=now - FLAPPING_WINDOW,
        ).order_by().values("fingerprint").annotate(n=Count("id")).values_list("fingerprint", "n")
    )
    flapping = [a for a in alerts if counts.get(a.fingerprint, 0) > limit]
    for alert in flapping:
        alert.flapping = True
    if flapping:
        Alert.objects.filter(pk__in=[a.pk for a in flapping]).update(flapping=True)


def _hold(alerts, explained) -> None:
    """R17.2: an alert whose organization and kind an open vendor incident explains is held."""
    if not explained:
        return
    by_incident = defaultdict(list)
    for alert in alerts:
        incident = explained.get((alert.organization_id, alert.kind))
        if incident is not None:
            alert.held_by_id = incident
            by_incident[incident].append(alert.pk)
    for incident, ids in by_incident.items():
        Alert.objects.filter(pk__in=ids).update(held_by=incident)


def storm_subject(key) -> str:
    organization_id, kind, cause = key
    return f"{organization_id}:{kind}:{cause}"


def group(account, alerts, now, tally) -> None:
    """R17.1: alerts join the open storm of their organization, kind and cause; past the
    threshold within one evaluation, a storm opens and the ones sent alone so far join it
    (their tickets and emails, not sent yet, are withdrawn: `events.grouped`)."""
    by_key = defaultdict(list)
    for alert in alerts:
        by_key[(alert.organization_id, alert.kind, cause_of(alert))].append(alert)
    found = _open_storms(account, [k for k in by_key if k not in tally.storms])
    joining = []  # (alert id, storm id): written with one UPDATE for the batch
    for key, members in by_key.items():
        storm = tally.storms.get(key) or found.get(key)
        earlier = []
        if storm is None:
            alone = tally.alone[key]
            if len(alone) + len(members) <= tally.settings.storm_threshold:
                alone.extend(a.pk for a in members)
                continue
            storm = _open_storm(account, key, members[0], now)
            tally.opened.add(storm.pk)
            earlier = tally.alone.pop(key)
        tally.storms[key] = storm
        for alert in members:
            alert.storm_id = storm.pk
        joining += [(pk, storm.pk) for pk in [a.pk for a in members] + earlier]
        if earlier:
            events.grouped.send(sender=Alert, alert_ids=earlier)
        if storm.pk not in tally.opened:  # a storm of an earlier evaluation: a note says who joined
            events.record([storm], AlertEvent.Type.UPDATED, now, reason=_joined(members, storm, joining))
    _join(joining)


def _join(pairs) -> None:
    if not pairs:
        return
    source, params = rows_source([("id", "bigint"), ("storm", "bigint")], pairs)
    table = Alert._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET storm_id = v.storm FROM {source} WHERE {table}.id = v.id", params)


def _open_storms(account, keys) -> dict[tuple, Alert]:
    if not keys:
        return {}
    subjects = {storm_subject(k): k for k in keys}
    rows = Alert.objects.filter(
        account=account, kind=STORM_KIND, state=AlertState.OPEN,
        fingerprint__in=[f"{STORM_KIND}:{s}" for s in subjects],
    )
    return {subjects[a.subject]: a for a in rows}


def _open_storm(account, key, example, now) -> Alert:
    from alerts.reconciler import raise_alerts  # noqa: PLC0415 (the reconciler calls this module)

    organization_id, kind, cause = key
    organization = example.organization_name or "an organization"
    label = cause_label(kind, cause)
    condition = Condition(
        kind=STORM_KIND,
        subject=storm_subject(key),
        title=f"Alert storm in {organization}: {KINDS.get(kind, kind)}" + (f" ({label})" if label else ""),
        organization_id=organization_id,
        group_label=f"{organization} — {KINDS[STORM_KIND]}",
        details={"alerts_of_kind": KINDS.get(kind, kind), "cause": label or "—", "grouped_kind": kind},
    )
    raised = raise_alerts(account, [condition], now)
    if raised:
        return raised[0]
    return Alert.objects.get(account=account, fingerprint=condition.fingerprint, state=AlertState.OPEN)


def _named(alerts) -> str:
    names = [f"{a.ref} {a.title}" for a in alerts[:NAMED]]
    more = len(alerts) - NAMED
    return "; ".join(names) + (f"; and {more} more" if more > 0 else "")


def _joined(members, storm, joining) -> str:
    _join(joining)  # the count below includes those joining now
    joining.clear()
    total = Alert.objects.filter(storm=storm, state=AlertState.OPEN).count()
    return f"{len(members)} more alert(s) joined: {_named(members)}. {total} open in this storm."


def on_events(sender, events, **kwargs):
    """Receiver of `events_recorded`: members resolving shrink (or end) their storm; a vendor
    incident ending releases what it held."""
    storms, incidents = defaultdict(list), []
    for event in events:
        if event.type not in (AlertEvent.Type.RESOLVED, AlertEvent.Type.DISMISSED):
            continue
        alert = event.alert
        if alert.storm_id is not None:
            storms[alert.storm_id].append(alert)
        if alert.kind == INCIDENT_KIND:
            incidents.append(alert)
    if not storms and not incidents:
        return
    at = events[0].at
    for storm_id, gone in storms.items():
        _shrink(storm_id, sorted(gone, key=lambda a: a.pk), at)
    for incident in incidents:
        release(incident, at)


def _shrink(storm_id, gone, at) -> None:
    from alerts.reconciler import resolve  # noqa: PLC0415

    storm = Alert.objects.filter(pk=storm_id, state=AlertState.OPEN).first()
    if storm is None:
        return
    left = Alert.objects.filter(storm_id=storm_id, state=AlertState.OPEN).count()
    if not left:
        resolve([storm], at, "cleared")  # the last member resolved: the storm's ticket closes
        return
    events.record([storm], AlertEvent.Type.UPDATED, at,
                  reason=f"{len(gone)} alert(s) resolved: {_named(gone)}. {left} still open in this storm.")


def release(incident, at) -> None:
    """R17.2: the incident ended; the alerts it held that still hold fan out now (grouped into
    storms like any raise). Those that resolved meanwhile stay quiet: they never had a ticket."""
    held = list(
        AlertEvent.objects.filter(
            alert__held_by=incident, alert__state=AlertState.OPEN, type=AlertEvent.Type.RAISED,
        ).select_related("alert__account", "alert__organization").order_by("id")
    )
    if not held:
        return
    Alert.objects.filter(pk__in=[e.alert_id for e in held]).update(held_by=None)
    for event in held:
        event.alert.held_by_id = None
    tally = Tally(incident.account)
    if tally.settings.storm_threshold:
        group(incident.account, [e.alert for e in held if e.alert.organization_id], at, tally)
    events.events_recorded.send(sender=AlertEvent, events=held)


class Clearing:
    """Flapping alerts of one reconcile: held open while clear (`settle`), and their clock
    stopped when their condition is back (`back`, given the kept alerts that were clear)."""

    def back(self, ids) -> None:
        """Kept alerts that were clear: their condition holds again, so their quiet time starts over."""
        if ids:
            Alert.objects.filter(pk__in=ids).update(clear_since=None)

    def settle(self, ids, now, reason, superseded) -> list[int]:
        """Of cleared alert ids, those to resolve now: a flapping alert stays open until its
        condition has been clear for FLAPPING_CLEAR (the first clear evaluation starts the clock)."""
        if reason != "cleared":
            return ids
        rows = Alert.objects.filter(pk__in=ids, flapping=True).exclude(pk__in=superseded & set(ids))
        held, starting = set(), []
        for pk, since in rows.values_list("pk", "clear_since"):
            if since is None:
                starting.append(pk)
                held.add(pk)
            elif now - since < FLAPPING_CLEAR:
                held.add(pk)
        if starting:
            Alert.objects.filter(pk__in=starting).update(clear_since=now)
        return [pk for pk in ids if pk not in held]
