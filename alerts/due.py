"""Evaluation by due time (issue 17): when each subject's alerts can next change, computed
after evaluating it, and what else makes it due. Four subject types have a next moment
(inventory.NextCheck, inventory/due.py): assets (R5, R6), appliances (R2, R7.2, R10), SaaS sources (R8) and
Azure assets (R9).

A subject's condition and its alert's details move by themselves only at these moments;
every other change is a write that marks it (inventory/due.py, and the receivers below):
- an asset: S + N for the first scheduled start S after now - N and after the newest good
  backup (R5.1: a start becomes due; the starts before that backup are covered, and a new
  backup marks the asset); for a hot-copied asset with a good backup not hot-copied, that
  backup's end + N (R6.1); for an asset with an open alarm, its next scheduled start (the
  checklist's last and next start, the count of missed starts: R5.3, R7.1);
- an appliance: its last contact + 30 minutes (R2.3 offline; a contact after silence marks it);
  its reported alerts, storage and version change only with a poll, which marks it;
- a SaaS source: the next day (R8: the 7-day window and the 2-day hold move by the date),
  and the next cycle after its alert was raised (the rule reads the open alert: R8.6);
- an Azure asset: its last successful backup + its threshold (R9.3);
- every type: the end of the quiet time of a dismissed alert (R11.4, R10.3);
- at the latest, a horizon (EVALUATION_DUE_HORIZON_HOURS), so nothing waits forever on
  a change no writer marked.
"""

from bisect import bisect_right
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db.models import BigIntegerField, Func, OuterRef, Q, Subquery
from django.db.models.signals import post_delete, post_save, pre_save

from alerts.models import Alert, AlertEvent, AlertSettings, AlertState
from alerts.read_ahead import read_ahead
from alerts.reconciler import Outcome, reconcile
from alerts.rules import dbma, purging
from alerts.rules.backup_queries import oldest_uncopied_ends
from inventory import due
from inventory.models import GOOD_STATUSES, Appliance, Asset, AzureAsset, Backup, BackupSchedule
from inventory.schedules import COUNT_WINDOW, RecurrenceCache, ScheduleError
from maintenance.due import window_ends
from tenancy.arrays import postgresql
from thresholds.effective import effective_thresholds

ASSET_KINDS = ("backup_alarm", "hot_copy_alarm")
APPLIANCE_KINDS = ("appliance_offline", "appliance_alert", "purging")
UPGRADE_KIND = "appliance_upgrade"  # one alert per account: re-read whole when any appliance is due
SAAS_KINDS = ("spanning_m365", "spanning_gws", "spanning_salesforce")
AZURE_KINDS = ("dbma_backup",)
INTEGRATION_KIND = "dbma_integration"  # one per integration: always read whole, with the Azure rule
# {subject type: (the kinds of its alerts, the keyword that restricts a rule to some of them)}
SUBJECTS = {
    "asset": (ASSET_KINDS, "assets"),
    "appliance": ((*APPLIANCE_KINDS, UPGRADE_KIND), "appliances"),
    "saas": (SAAS_KINDS, "sources"),
    "azure": ((*AZURE_KINDS, INTEGRATION_KIND), "azure_assets"),
}
BATCH = 5000
AFTER = timedelta(microseconds=1)  # "late" is strictly after the limit: the first moment past it
EPOCH, ONE_MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


def subject_of(kinds):
    """The subject type whose rows a rule owning `kinds` is evaluated over; None: a rule read whole."""
    for subject, (owned, _) in SUBJECTS.items():
        if set(kinds) <= set(owned):
            return subject
    return None


def reconcile_due(account, now, kinds, conditions, subject, ids) -> Outcome:
    """Reconcile one rule over the rows `ids` of its subject type only: their conditions, and
    the open alerts of those rows or of rows gone (R15.2)."""
    if UPGRADE_KIND in kinds:  # R2.2: a list of every appliance, re-read when one of them changed
        return reconcile(account, kinds, conditions(account, now), now) if ids else Outcome()
    keyword = SUBJECTS[subject][1]
    always = INTEGRATION_KIND in kinds
    wanted = ahead_if_large(subject, conditions(account, now, **{keyword: ids}), lambda: len(ids)) if ids or always else ()
    return reconcile(account, kinds, wanted, now, subset=_alerts_of(account, kinds, subject, ids))


def ahead_if_large(subject, conditions, count):
    """An asset rule's conditions (the conditional alarms read nothing an evaluation writes)
    computed on a thread of their own when the evaluation is large: `count()` subjects, asked
    only of an asset rule (alerts/read_ahead.py)."""
    if subject == "asset" and postgresql() and count() >= settings.EVALUATION_READ_AHEAD_FROM:
        return read_ahead(conditions)
    return conditions


def _alerts_of(account, kinds, subject, ids) -> Q:
    if subject == "asset":
        return Q(asset_id__in=ids) | Q(asset_id__isnull=True)
    if subject == "appliance":
        return Q(appliance_id__in=ids) | Q(appliance_id__isnull=True)
    if subject == "saas":
        mine = [f"saas:{pk}:{level}" for pk in ids for level in ("partial", "failed")]
        return Q(subject__in=mine) | Q(subject__in=_gone(account, kinds, subject))
    mine = [f"azure:{pk}" for pk in ids]
    return Q(kind=INTEGRATION_KIND) | Q(subject__in=mine) | Q(subject__in=_gone(account, AZURE_KINDS, subject))


def _gone(account, kinds, subject) -> list:
    """The subjects of open alerts whose SaaS source or Azure asset no longer exists (few rows)."""
    subjects = list(
        Alert.objects.filter(account=account, kind__in=kinds, state=AlertState.OPEN).values_list("subject", flat=True)
    )
    ids = {_row_id(s) for s in subjects} - {None}
    present = set(due.subject_models()[subject].objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [s for s in subjects if _row_id(s) not in present]


def _row_id(subject_key):
    parts = subject_key.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def next_moments(subject, account, now, ids) -> dict:
    """{id: the next moment its alerts can change} for the rows `ids` of this subject type."""
    if subject == "asset":
        return next_checks(account, now, ids)
    horizon = now + timedelta(hours=settings.EVALUATION_DUE_HORIZON_HOURS)
    moments = dict.fromkeys(ids, horizon)
    if not moments:
        return moments
    if subject == "appliance":  # R2.3: silent for 30 minutes after its last contact
        offline = timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
        for pk, contact in Appliance.objects.filter(pk__in=ids).values_list("pk", "last_contact_at"):
            if contact is not None:
                _earlier(moments, pk, contact + offline + AFTER, now)
    elif subject == "saas":  # R8.3, R8.4: the statuses up to today, the window and the hold move daily
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)
        for pk in moments:
            _earlier(moments, pk, tomorrow, now)
        # R8.6: the rule reads the source's open alert; one raised now shows, at the next
        # cycle, the run it keeps (since the first bad day, no step-down).
        raised = Alert.objects.filter(account=account, kind__in=SAAS_KINDS, state=AlertState.OPEN, raised_at=now)
        for subject_key in raised.values_list("subject", flat=True):
            if _row_id(subject_key) in moments:
                _earlier(moments, _row_id(subject_key), now + AFTER, now)
    elif subject == "azure":  # R9.3: late once the last good backup is older than the threshold
        thresholds = effective_thresholds(account)
        rows = AzureAsset.objects.filter(pk__in=ids, last_successful_backup_at__isnull=False)
        for pk, organization_id, last in rows.values_list("pk", "organization_id", "last_successful_backup_at"):
            hours, _ = dbma.azure_hours(thresholds, organization_id)
            _earlier(moments, pk, last + timedelta(hours=hours) + AFTER, now)
    _quiet_ends_of(subject, account, now, ids, moments)
    return moments


def _quiet_ends_of(subject, account, now, ids, moments):
    """R11.4, R10.3: a dismissed alert's fingerprint is quiet until dismissed_at + its quiet time."""
    realert = timedelta(hours=AlertSettings.for_account(account).realert_hours)
    longest = max(realert, timedelta(hours=purging.RETURN_AFTER_DISMISSAL_HOURS))
    kinds = SUBJECTS[subject][0]
    dismissed = Alert.objects.filter(
        account=account, kind__in=kinds, state=AlertState.DISMISSED, dismissed_at__gt=now - longest,
    ).values_list("kind", "appliance_id", "subject", "dismissed_at")
    wanted = set(ids)
    for kind, appliance_id, subject_key, dismissed_at in dismissed:
        quiet = timedelta(hours=purging.RETURN_AFTER_DISMISSAL_HOURS) if kind == "purging" else realert
        if kind == UPGRADE_KIND:
            targets = wanted  # the account's one alert: any appliance evaluated re-reads it
        else:
            row = appliance_id if subject == "appliance" else _row_id(subject_key)
            targets = {row} & wanted
        for pk in targets:
            _earlier(moments, pk, dismissed_at + quiet, now)


def next_checks(account, now, asset_ids) -> dict:
    """{asset id: the next moment its conditional alarms can change} for `asset_ids`."""
    horizon = now + timedelta(hours=settings.EVALUATION_DUE_HORIZON_HOURS)
    moments = dict.fromkeys(asset_ids, horizon)
    for asset_id, end in window_ends(account, now, moments, horizon).items():  # R16.2: raise what still holds
        _earlier(moments, asset_id, end, now)
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None or not moments:
        return moments  # R4.1: no conditional alarms until a global threshold exists (its save marks)
    cache, windows = RecurrenceCache(), {}
    ids = sorted(moments)
    for start in range(0, len(ids), BATCH):
        _next_in(account, now, ids[start:start + BATCH], moments, thresholds, cache, windows)
    return moments


def _earlier(moments, asset_id, moment, now):
    if moment is not None and moment > now and moment < moments[asset_id]:
        moments[asset_id] = moment


def _first_start(recurrence, after, until):
    """The first start S with `after` < S ≤ `until`, or None. Read from the range of starts the
    recurrence keeps (expanded once per evaluation, not once per asset) when it is short."""
    if until <= after:
        return None
    if until - after > COUNT_WINDOW:
        following = recurrence.next_start(after)
        return following if following is not None and following <= until else None
    starts = recurrence.starts(after, until)
    return starts[0] if starts else None


def _micros(moment) -> int:
    return (moment - EPOCH) // ONE_MICROSECOND


def _window(windows, recurrence, now, hours, until):
    """The starts S (UTC, ascending) with now - N < S ≤ `until` (the horizon - N) of one schedule,
    computed once per schedule and threshold for every asset on it, with each start in
    microseconds since the epoch; None when wider than the range a recurrence keeps."""
    key = (id(recurrence), hours)
    if key not in windows:
        after = now - hours
        starts = sorted(recurrence.starts(after, until)) if until - after <= COUNT_WINDOW else None
        windows[key] = None if starts is None else ([_micros(s) for s in starts], starts)
    return windows[key]


def _first_due_start(windows, recurrence, now, hours, last_good, until, horizon):
    """R5.1: the first start S after now - N and after the last good backup (`last_good`: in
    microseconds since the epoch, or None), with S ≤ `until`."""
    window = _window(windows, recurrence, now, hours, horizon - hours)
    if window is None or until > horizon - hours:
        after = now - hours if last_good is None else max(now - hours, EPOCH + last_good * ONE_MICROSECOND)
        return _first_start(recurrence, after, until)
    micros, starts = window
    index = 0 if last_good is None else bisect_right(micros, last_good)
    return starts[index] if index < len(starts) and starts[index] <= until else None


def _last_good(now):
    """The end of the asset's newest good backup, in microseconds since the epoch: PostgreSQL
    gives an integer (no timestamp to parse per schedule); SQLite the moment, converted below."""
    good = Backup.objects.filter(asset=OuterRef("asset_id"), status__in=GOOD_STATUSES, finished_at__lte=now)
    newest = Subquery(good.order_by("-finished_at").values("finished_at")[:1])
    if postgresql():
        return Func(newest, template="(extract(epoch FROM %(expressions)s) * 1000000)::bigint",
                    output_field=BigIntegerField())
    return newest


def _among(field, ids) -> dict:
    """A filter for the rows of these assets (ascending ids): an id range or `= ANY`, as
    `inventory.due.dense` finds best; the caller skips the others of a range."""
    if due.dense(ids):
        return {f"{field}__gte": ids[0], f"{field}__lte": ids[-1]}
    return {f"{field}__any_of": frozenset(ids)}  # a set: Django does not resolve its values one by one


def _next_in(account, now, ids, moments, thresholds, cache, windows):
    batch = frozenset(ids)
    alarming = set(
        Alert.objects.filter(account=account, kind__in=ASSET_KINDS, state=AlertState.OPEN, asset_id__any_of=batch)
        .values_list("asset_id", flat=True)
    )
    _scheduled_moments(now, ids, batch, alarming, moments, thresholds, cache, windows)
    hot = {
        pk: organization_id for pk, organization_id in
        Asset.objects.filter(**_among("pk", ids), hot_copy=True).values_list("pk", "organization_id")
        if pk in batch and thresholds.for_organization(organization_id).hot_copy_enabled
    }
    for asset_id, oldest in oldest_uncopied_ends(list(hot), now).items():  # R6.1
        if oldest is not None:
            hours = thresholds.for_organization(hot[asset_id]).hot_copy_hours
            _earlier(moments, asset_id, oldest + timedelta(hours=hours), now)
    _quiet_ends(account, now, batch, moments)


def _scheduled_moments(now, ids, batch, alarming, moments, thresholds, cache, windows):
    """R5.1, R5.3: the moments each schedule of the assets `ids` sets (one streamed query)."""
    horizon = now + timedelta(hours=settings.EVALUATION_DUE_HORIZON_HOURS)
    schedules = (
        BackupSchedule.objects.filter(**_among("asset_id", ids)).order_by().annotate(last_good=_last_good(now))
        .values_list("asset_id", "asset__organization_id", "asset__appliance__timezone", "rrule", "dtstart",
                     "last_good")
    )
    for asset_id, organization_id, zone, rrule, dtstart, last_good in schedules.iterator(chunk_size=BATCH):
        if asset_id not in batch:
            continue
        threshold = thresholds.for_organization(organization_id)
        try:
            recurrence = cache.get(rrule, dtstart, zone)
            if threshold.backups_enabled:  # R5.1: the next start to become due
                hours = timedelta(hours=threshold.backups_hours)
                if isinstance(last_good, datetime):
                    last_good = _micros(last_good)
                following = _first_due_start(windows, recurrence, now, hours, last_good, moments[asset_id] - hours,
                                             horizon)
                _earlier(moments, asset_id, following and following + hours, now)
            if asset_id in alarming:  # R5.3, R7.1: the checklist's starts move on
                _earlier(moments, asset_id, _first_start(recurrence, now, moments[asset_id]), now)
        except (ScheduleError, ValueError, TypeError, KeyError):
            continue  # unreadable: the rules show no starts for it either


def gone_silent(account, now) -> set:
    """R7.2: assets whose open alarm shows their appliance online while it no longer is (silent
    for 30 minutes, or reported offline). An appliance turns offline by itself, between two
    polls: rather than make every alarming asset due at each contact + 30 minutes, each cycle
    asks which alarms' checklists went stale. The silent appliances are read first (few rows,
    `appliance_contact`), and only their assets' alarms after them: a cycle with every
    appliance reporting reads no alarm at all, however many are open."""
    cutoff = now - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    silent = list(
        Appliance.objects.filter(account=account)
        .filter(Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True) | Q(status=Appliance.Status.OFFLINE))
        .values_list("pk", flat=True)
    )
    if not silent:
        return set()
    return set(
        Alert.objects.filter(account=account, kind__in=ASSET_KINDS, state=AlertState.OPEN, appliance_id__in=silent)
        .filter(details__checks__0__ok=True).values_list("asset_id", flat=True)
    )


def _quiet_ends(account, now, ids, moments):
    """R11.4: a dismissed alarm's fingerprint is quiet until dismissed_at + the re-alert interval."""
    hours = timedelta(hours=AlertSettings.for_account(account).realert_hours)
    dismissed = Alert.objects.filter(
        account=account, kind__in=ASSET_KINDS, state=AlertState.DISMISSED, asset_id__any_of=ids,
        dismissed_at__gt=now - hours,
    ).values_list("asset_id", "dismissed_at")
    for asset_id, dismissed_at in dismissed:
        _earlier(moments, asset_id, dismissed_at + hours, now)


# What makes assets due besides their own data: thresholds (R4.6), the re-alert interval,
# an organization's name (the alarms' group label), a dismissal.

def _threshold_saved(sender, instance, **kwargs):
    due.account_changed(instance.account_id)


def _assignment_changed(sender, instance, **kwargs):
    due.organizations_changed([instance.organization_id])


_SETTINGS_READ = ("realert_hours", "categories", "purging_alerts")  # what the rules read (R11.4, R2.1, R10.2)


def _settings_saving(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list(*_SETTINGS_READ).first()
    if before != tuple(getattr(instance, name) for name in _SETTINGS_READ):
        due.account_changed(instance.account_id)


def _organization_saved(sender, instance, created=False, **kwargs):
    if not created:
        due.organizations_changed([instance.pk])


def _events_recorded(sender, events, **kwargs):
    """A dismissal starts a quiet time (R11.4): its subject is due, to learn when the quiet ends."""
    dismissed = [e.alert_id for e in events if e.type == AlertEvent.Type.DISMISSED]
    if not dismissed:
        return
    alerts = list(Alert.objects.filter(pk__in=dismissed).values_list("account_id", "kind", "asset_id",
                                                                     "appliance_id", "subject"))
    due.assets_changed(asset for _, kind, asset, _, _ in alerts if kind in ASSET_KINDS)
    due.appliance_facts_changed(appliance for _, kind, _, appliance, _ in alerts if kind in APPLIANCE_KINDS)
    due.sources_changed(_row_id(subject) for _, kind, _, _, subject in alerts if kind in SAAS_KINDS)
    due.azure_assets_changed(_row_id(subject) for _, kind, _, _, subject in alerts if kind in AZURE_KINDS)
    for account_id in {account for account, kind, *_ in alerts if kind == UPGRADE_KIND}:
        due.mark_assets(Appliance.objects.filter(account_id=account_id))


def connect() -> None:
    from alerts.events import events_recorded
    from tenancy.models import Organization
    from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

    for model in (GlobalThreshold, CustomThreshold):
        post_save.connect(_threshold_saved, sender=model, dispatch_uid=f"due-{model.__name__}-saved")
        post_delete.connect(_threshold_saved, sender=model, dispatch_uid=f"due-{model.__name__}-deleted")
    post_save.connect(_assignment_changed, sender=ThresholdAssignment, dispatch_uid="due-assignment-saved")
    post_delete.connect(_assignment_changed, sender=ThresholdAssignment, dispatch_uid="due-assignment-deleted")
    pre_save.connect(_settings_saving, sender=AlertSettings, dispatch_uid="due-settings-saving")
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="due-organization-saved")
    events_recorded.connect(_events_recorded, dispatch_uid="due-dismissals")
