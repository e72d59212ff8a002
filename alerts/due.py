"""Evaluation by due time for the conditional alarms (R5, R6): when each asset's alarms can
next change, computed after evaluating it, and what else makes it due.

An asset's condition and its alarm's details move by themselves only at these moments;
every other change is a write that marks it (inventory/due.py, and the receivers below):
- S + N for the first scheduled start S after now - N and after the newest good backup
  (R5.1: a start becomes due; the starts before that backup are covered, and a new backup
  marks the asset);
- for a hot-copied asset with a good backup not hot-copied, that backup's end + N (R6.1);
- for an asset with an open alarm, its next scheduled start (the checklist's last and next
  start, the count of missed starts: R5.3, R7.1);
- the end of the quiet time of a dismissed alarm (R11.4);
- at the latest, a horizon (EVALUATION_DUE_HORIZON_HOURS), so nothing waits forever on
  a change no writer marked.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.db.models.signals import post_delete, post_save, pre_save

from alerts.models import Alert, AlertEvent, AlertSettings, AlertState
from alerts.rules.backup_queries import oldest_uncopied_ends
from inventory import due
from inventory.models import GOOD_STATUSES, Appliance, Asset, Backup, BackupSchedule
from inventory.schedules import COUNT_WINDOW, RecurrenceCache, ScheduleError
from maintenance.due import window_ends
from thresholds.effective import effective_thresholds

ASSET_KINDS = ("backup_alarm", "hot_copy_alarm")
BATCH = 5000


def next_checks(account, now, asset_ids) -> dict:
    """{asset id: the next moment its conditional alarms can change} for `asset_ids`."""
    horizon = now + timedelta(hours=settings.EVALUATION_DUE_HORIZON_HOURS)
    moments = dict.fromkeys(asset_ids, horizon)
    for asset_id, end in window_ends(account, now, moments, horizon).items():  # R16.2: raise what still holds
        _earlier(moments, asset_id, end, now)
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None or not moments:
        return moments  # R4.1: no conditional alarms until a global threshold exists (its save marks)
    cache = RecurrenceCache()
    ids = list(moments)
    for start in range(0, len(ids), BATCH):
        _next_in(account, now, ids[start:start + BATCH], moments, thresholds, cache)
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


def _next_in(account, now, ids, moments, thresholds, cache):
    alarming = set(
        Alert.objects.filter(account=account, kind__in=ASSET_KINDS, state=AlertState.OPEN, asset_id__any_of=ids)
        .values_list("asset_id", flat=True)
    )
    good = Backup.objects.filter(asset=OuterRef("asset_id"), status__in=GOOD_STATUSES, finished_at__lte=now)
    schedules = BackupSchedule.objects.filter(asset_id__any_of=ids).annotate(
        last_good=Subquery(good.order_by("-finished_at").values("finished_at")[:1])
    ).values_list("asset_id", "asset__organization_id", "asset__appliance__timezone", "rrule", "dtstart", "last_good")
    for asset_id, organization_id, zone, rrule, dtstart, last_good in schedules.iterator(chunk_size=BATCH):
        threshold = thresholds.for_organization(organization_id)
        try:
            recurrence = cache.get(rrule, dtstart, zone)
            if threshold.backups_enabled:  # R5.1: the next start to become due
                hours = timedelta(hours=threshold.backups_hours)
                after = now - hours if last_good is None else max(now - hours, last_good)
                following = _first_start(recurrence, after, moments[asset_id] - hours)
                _earlier(moments, asset_id, following and following + hours, now)
            if asset_id in alarming:  # R5.3, R7.1: the checklist's starts move on
                _earlier(moments, asset_id, _first_start(recurrence, now, moments[asset_id]), now)
        except (ScheduleError, ValueError, TypeError, KeyError):
            continue  # unreadable: the rules show no starts for it either
    hot = {
        pk: organization_id for pk, organization_id in
        Asset.objects.filter(pk__any_of=ids, hot_copy=True).values_list("pk", "organization_id")
        if thresholds.for_organization(organization_id).hot_copy_enabled
    }
    for asset_id, oldest in oldest_uncopied_ends(list(hot), now).items():  # R6.1
        if oldest is not None:
            hours = thresholds.for_organization(hot[asset_id]).hot_copy_hours
            _earlier(moments, asset_id, oldest + timedelta(hours=hours), now)
    _quiet_ends(account, now, ids, moments)


def gone_silent(account, now) -> set:
    """R7.2: assets whose open alarm shows their appliance online while it no longer is (silent
    for 30 minutes, or reported offline). An appliance turns offline by itself, between two
    polls: rather than make every alarming asset due at each contact + 30 minutes, each cycle
    asks which alarms' checklists went stale (few rows: the silent appliances' alarms)."""
    cutoff = now - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    silent = (Q(appliance__last_contact_at__lt=cutoff) | Q(appliance__last_contact_at__isnull=True)
              | Q(appliance__status=Appliance.Status.OFFLINE))
    return set(
        Alert.objects.filter(account=account, kind__in=ASSET_KINDS, state=AlertState.OPEN)
        .filter(silent, details__checks__0__ok=True).values_list("asset_id", flat=True)
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


def _settings_saving(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list("realert_hours", flat=True).first()
    if before != instance.realert_hours:
        due.account_changed(instance.account_id)


def _organization_saved(sender, instance, created=False, **kwargs):
    if not created:
        due.organizations_changed([instance.pk])


def _events_recorded(sender, events, **kwargs):
    dismissed = [e.alert_id for e in events if e.type == AlertEvent.Type.DISMISSED]
    if dismissed:
        due.assets_changed(
            Alert.objects.filter(pk__in=dismissed, kind__in=ASSET_KINDS).values_list("asset_id", flat=True)
        )


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
