"""Retention: old rows go once a day, and never a row a rule or a delivery still reads.

NOW is 2026-11-02 12:00 UTC; with the default ages a backup goes after 400 days (before
2025-09-28 12:00), a closed alert after 400, an attempt after 90, an evaluation after 30.
"""

import random
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from alerts.models import Alert, AlertEvent, Evaluation
from alerts.rules import backup_alarm, hot_copy_alarm
from inventory.models import Backup, BackupCopy, Job, SaasDailyStatus, SaasSource
from notifications.models import Delivery, DeliveryAttempt
from observability import retention
from observability.tasks import prune as prune_task
from tenancy.models import BackgroundJob
from tests.conftest import NOW, make_appliance, make_asset
from tests.test_backup_alarm import make_backup, make_copy, set_global
from uniview.celery import app
from uniview.env import env_days


def days_ago(days, hours=0):
    return NOW - timedelta(days=days, hours=hours)


def prune(**kwargs):
    return {pruned.what: pruned for pruned in retention.prune(NOW, **kwargs)}


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def rule_answers(account):
    """Every condition the two backup rules yield now, with its details: what must not change."""
    found = list(backup_alarm.conditions(account, NOW)) + list(hot_copy_alarm.conditions(account, NOW))
    return sorted((asdict(c) for c in found), key=lambda c: (c["kind"], c["subject"]))


@pytest.fixture
def appliance(cast):
    set_global(cast.account_a, backups_hours=24, hot_copy_hours=24)
    return make_appliance(cast.account_a, cast.org_a1)


# --- Backups ---------------------------------------------------------------------

def test_backups_older_than_the_age_go_and_younger_ones_stay(appliance):
    asset = make_asset(appliance)
    old = [make_backup(asset, days_ago(d)) for d in (700, 600, 500, 401)]
    young = [make_backup(asset, days_ago(d)) for d in (399, 10, 1)]
    result = prune()
    assert ids(Backup.objects.all()) == {b.pk for b in young}
    assert result["backups"].deleted == len(old)


def test_r5_1_an_assets_newest_backup_and_newest_good_backup_stay_whatever_their_age(appliance):
    asset = make_asset(appliance)
    oldest_good = make_backup(asset, days_ago(600))
    make_backup(asset, days_ago(550), status="failed")
    middle_good = make_backup(asset, days_ago(520))
    newest_good = make_backup(asset, days_ago(500))
    make_backup(asset, days_ago(480), status="failed")
    newest = make_backup(asset, days_ago(450), status="failed")
    before = rule_answers(asset.account)
    prune()
    # R5 reads the newest good backup, the checklist (R7.1) the newest backup.
    assert ids(Backup.objects.all()) == {newest.pk, newest_good.pk}
    assert not Backup.objects.filter(pk__in=[oldest_good.pk, middle_good.pk]).exists()
    assert rule_answers(asset.account) == before
    assert [c["kind"] for c in before] == ["backup_alarm"]


def test_r6_1_the_hot_copy_alarm_reads_the_same_backups_after_pruning(appliance):
    """R6: copies stopped 460 days ago; the newest hot-copied good backup and the oldest good
    backup after it stay, so 'not copied since' keeps its date."""
    asset = make_asset(appliance, hot_copy=True)
    backups = {d: make_backup(asset, days_ago(d)) for d in range(520, 380, -10)}
    for d, backup in backups.items():
        if d >= 460:
            make_copy(backup, days_ago(d) + timedelta(hours=1))
    make_copy(backups[500], days_ago(500) + timedelta(hours=2), target="cold")
    before = rule_answers(asset.account)
    assert {c["kind"] for c in before} == {"backup_alarm", "hot_copy_alarm"}
    prune()
    kept_old = {d for d, b in backups.items() if d > 400 and Backup.objects.filter(pk=b.pk).exists()}
    assert kept_old == {460, 450}  # the newest hot-copied good backup, the oldest one after it
    assert rule_answers(asset.account) == before
    hot = next(c for c in before if c["kind"] == "hot_copy_alarm")
    assert hot["details"]["not_copied_since"] == backups[450].finished_at.isoformat()
    # Copies went with their backups; the newest good hot copy stayed with its backup.
    assert set(BackupCopy.objects.values_list("backup_id", flat=True)) == {backups[460].pk}


def test_the_backup_holding_the_newest_hot_copy_stays_even_when_the_copy_failed(appliance):
    asset = make_asset(appliance, hot_copy=True)
    copied = make_backup(asset, days_ago(600))
    make_copy(copied, days_ago(600) + timedelta(hours=1))
    not_copied = make_backup(asset, days_ago(580))
    tried = make_backup(asset, days_ago(550))
    make_copy(tried, days_ago(550) + timedelta(hours=1), status="failed", error="target offline")
    make_backup(asset, days_ago(10))
    before = rule_answers(asset.account)
    assert "target offline" in str(before)  # the failed copy's error is what the alarm shows
    prune()
    # R7.1: the checklist shows the last hot copy (failed) and the newest good one.
    assert {copied.pk, not_copied.pk, tried.pk} <= ids(Backup.objects.all())
    assert rule_answers(asset.account) == before


def test_the_newest_hot_copied_backup_stays_when_an_older_backups_copy_ended_later(appliance):
    """R6 counts from the newest good backup with a good hot copy (H), not from the copy that
    ended last: a slow copy of an older backup must not move 'not copied since'."""
    asset = make_asset(appliance, hot_copy=True)
    older = make_backup(asset, days_ago(600))
    BackupCopy.objects.create(account=older.account, asset=asset, backup=older, external_id="slow", target="hot",
                              status="success", started_at=days_ago(555), finished_at=days_ago(540))
    between = make_backup(asset, days_ago(580))
    make_copy(between, days_ago(550) + timedelta(hours=1), status="failed")
    newest_copied = make_backup(asset, days_ago(560))
    make_copy(newest_copied, days_ago(559))
    after = make_backup(asset, days_ago(520))
    make_backup(asset, days_ago(10))
    before = rule_answers(asset.account)
    hot = next(c for c in before if c["kind"] == "hot_copy_alarm")
    assert hot["details"]["not_copied_since"] == after.finished_at.isoformat()
    prune()
    assert {older.pk, between.pk, newest_copied.pk, after.pk} <= ids(Backup.objects.all())
    assert rule_answers(asset.account) == before


def test_a_healthy_hot_copied_asset_keeps_only_its_young_backups(appliance):
    asset = make_asset(appliance, hot_copy=True)
    for d in range(600, 0, -50):
        make_copy(make_backup(asset, days_ago(d)), days_ago(d) + timedelta(hours=1))
    before = rule_answers(asset.account)
    prune()
    assert all(finished >= days_ago(400) for finished in Backup.objects.values_list("finished_at", flat=True))
    assert rule_answers(asset.account) == before


def test_a_backup_of_an_old_start_with_a_young_copy_stays(appliance):
    asset = make_asset(appliance, hot_copy=True)
    late = make_backup(asset, days_ago(500))
    make_copy(late, days_ago(300))
    make_copy(make_backup(asset, days_ago(1)), days_ago(1) + timedelta(hours=1))
    prune()
    assert late.pk in ids(Backup.objects.all())


def test_a_job_keeps_its_row_when_its_backup_goes(cast, appliance):
    asset = make_asset(appliance)
    old = make_backup(asset, days_ago(500))
    make_backup(asset, days_ago(1))
    job = Job.objects.create(account=cast.account_a, appliance=appliance, asset=asset, backup=old,
                             external_id="j1", state="running", started_at=days_ago(1))
    prune()
    job.refresh_from_db()
    assert job.backup_id is None and not Backup.objects.filter(pk=old.pk).exists()


def test_pruning_in_small_batches_keeps_the_same_rows_and_a_second_run_deletes_nothing(appliance):
    hot, plain = make_asset(appliance, "hot", hot_copy=True), make_asset(appliance, "plain")
    for d in range(700, 0, -20):
        backup = make_backup(hot, days_ago(d), status="failed" if d % 60 == 0 else "success")
        if 500 <= d or d < 40:
            make_copy(backup, days_ago(d) + timedelta(hours=1))
        make_backup(plain, days_ago(d, hours=3), status="warning" if d % 100 == 0 else "success")
    before = rule_answers(appliance.account)
    first = prune(batch_size=3)
    kept = ids(Backup.objects.all())
    assert first["backups"].deleted > 20
    second = prune(batch_size=3)
    assert second["backups"].deleted == 0 and ids(Backup.objects.all()) == kept
    assert rule_answers(appliance.account) == before


def test_the_rules_answer_the_same_after_pruning_random_histories(appliance):
    """Histories of every shape (failures, failed and cold copies, copies that stop and start
    again), pruned in batches of 7: the two backup rules yield the same conditions and details."""
    rng = random.Random(17)
    for n in range(12):
        asset = make_asset(appliance, f"server-{n}", hot_copy=n % 3 != 0)
        for d in sorted(rng.sample(range(1, 900), 40), reverse=True):
            backup = make_backup(asset, days_ago(d, hours=rng.randrange(24)),
                                 status=rng.choice(["success", "success", "warning", "failed", "cancelled"]))
            for _ in range(rng.choice([0, 0, 1, 2])):
                make_copy(backup, backup.finished_at + timedelta(hours=rng.randrange(1, 30)),
                          target=rng.choice(["hot", "hot", "cold"]), status=rng.choice(["success", "failed"]))
        if n % 4 == 1:  # stopped backing up more than the age ago
            Backup.objects.filter(asset=asset, finished_at__gt=days_ago(450)).delete()
    before = rule_answers(appliance.account)
    assert len(before) > 5
    first = prune(batch_size=7)
    assert first["backups"].deleted > 100
    assert rule_answers(appliance.account) == before
    kept = ids(Backup.objects.all())
    assert prune()["backups"].deleted == 0 and ids(Backup.objects.all()) == kept


# --- Alerts, deliveries, attempts ------------------------------------------------

def alert(cast, subject, raised, state="resolved", closed=None):
    made = Alert.objects.create(
        account=cast.account_a, organization=cast.org_a1, fingerprint=f"backup_alarm:{subject}",
        kind="backup_alarm", subject=subject, title=subject, group_key="g", group_label="g",
        state=state, raised_at=raised, resolved_at=closed if state == "resolved" else None,
        dismissed_at=closed if state == "dismissed" else None,
    )
    event = AlertEvent.objects.create(account=cast.account_a, alert=made, type="raised", at=raised)
    delivery = Delivery.objects.create(account=cast.account_a, event=event, channel="psa", target="1",
                                       state="sent", next_attempt_at=raised, external_ref="T-1")
    DeliveryAttempt.objects.create(delivery=delivery, started_at=raised, ok=True)
    if closed is not None:
        closing = AlertEvent.objects.create(account=cast.account_a, alert=made, type=state, at=closed)
        Delivery.objects.create(account=cast.account_a, event=closing, channel="psa", target="1",
                                state="sent", next_attempt_at=closed)
    return made


def test_a_closed_alert_goes_with_its_events_deliveries_and_attempts(cast):
    gone = alert(cast, "gone", days_ago(500), closed=days_ago(499))
    dismissed = alert(cast, "dismissed", days_ago(500), state="dismissed", closed=days_ago(450))
    result = prune()
    assert not Alert.objects.filter(pk__in=[gone.pk, dismissed.pk]).exists()
    assert (AlertEvent.objects.count(), Delivery.objects.count(), DeliveryAttempt.objects.count()) == (0, 0, 0)
    assert result["closed alerts"].deleted == 2
    assert result["closed alerts"].also == "with 4 events, with 4 deliveries"


def test_r13_5_an_open_alert_keeps_its_history_and_its_raised_delivery_whatever_their_age(cast):
    still_open = alert(cast, "open", days_ago(700), state="open")
    prune()
    assert Alert.objects.filter(pk=still_open.pk).exists()
    raised = Delivery.objects.get(event__alert=still_open)
    assert raised.external_ref == "T-1"  # the ticket can still close
    # Its old attempt goes (after 90 days): attempts are the diagnostics of a delivery that is done.
    assert DeliveryAttempt.objects.filter(delivery=raised).count() == 0


def test_an_alert_closed_since_the_cutoff_or_with_a_pending_delivery_stays(cast):
    recently = alert(cast, "recently", days_ago(700), closed=days_ago(30))
    pending = alert(cast, "pending", days_ago(700), closed=days_ago(500))
    closing = Delivery.objects.get(event__alert=pending, event__type="resolved")
    Delivery.objects.filter(pk=closing.pk).update(state="pending")
    DeliveryAttempt.objects.create(delivery=closing, started_at=days_ago(200))
    prune()
    assert ids(Alert.objects.all()) == {recently.pk, pending.pk}
    assert Delivery.objects.filter(event__alert=pending).count() == 2
    assert DeliveryAttempt.objects.filter(delivery=closing).count() == 1  # a pending delivery's attempts stay


def test_attempts_older_than_their_age_go_and_younger_ones_stay(cast):
    made = alert(cast, "a", days_ago(95), state="open")
    delivery = Delivery.objects.get(event__alert=made)
    DeliveryAttempt.objects.create(delivery=delivery, started_at=days_ago(91))
    young = DeliveryAttempt.objects.create(delivery=delivery, started_at=days_ago(89))
    prune()
    assert ids(DeliveryAttempt.objects.all()) == {young.pk}


def test_a_row_written_out_of_time_order_goes_once_the_rows_before_it_are_old(cast):
    """The log tables are read along the primary key up to the first young row, not whole."""
    runs = [Evaluation.objects.create(account=cast.account_a, now=NOW) for _ in range(3)]
    for run, age in zip(runs, (40, 20, 35), strict=True):
        Evaluation.objects.filter(pk=run.pk).update(started_at=days_ago(age))
    prune()
    assert ids(Evaluation.objects.all()) == {runs[1].pk, runs[2].pk}
    Evaluation.objects.filter(pk=runs[1].pk).update(started_at=days_ago(31))
    prune()
    assert ids(Evaluation.objects.all()) == set()


# --- Evaluations, background jobs, appliance jobs, SaaS statuses ----------------------

def test_the_evaluation_log_and_finished_background_jobs_go_after_30_days(cast):
    old_run = Evaluation.objects.create(account=cast.account_a, now=days_ago(31))
    young_run = Evaluation.objects.create(account=cast.account_a, now=days_ago(29))
    Evaluation.objects.filter(pk=old_run.pk).update(started_at=days_ago(31))
    Evaluation.objects.filter(pk=young_run.pk).update(started_at=days_ago(29))
    jobs = {
        name: BackgroundJob.objects.create(account=cast.account_a, kind="evaluation", label=name, state=state)
        for name, state in (("done", "done"), ("lost", "running"), ("young", "done"))
    }
    BackgroundJob.objects.filter(pk__in=[jobs["done"].pk, jobs["lost"].pk]).update(
        created_at=days_ago(40), finished_at=days_ago(40))
    BackgroundJob.objects.filter(pk=jobs["lost"].pk).update(finished_at=None)
    BackgroundJob.objects.filter(pk=jobs["young"].pk).update(created_at=days_ago(5), finished_at=days_ago(5))
    prune()
    assert ids(Evaluation.objects.all()) == {young_run.pk}
    assert ids(BackgroundJob.objects.all()) == {jobs["young"].pk}


def test_an_appliances_finished_jobs_go_after_90_days_and_running_ones_stay(cast, appliance):
    def job(name, state, started, finished=None):
        return Job.objects.create(account=cast.account_a, appliance=appliance, external_id=name, state=state,
                                  started_at=started, finished_at=finished)
    job("old", "finished", days_ago(100), days_ago(100))
    running = job("running", "running", days_ago(100))
    young = job("young", "failed", days_ago(80), days_ago(80))
    prune()
    assert ids(Job.objects.all()) == {running.pk, young.pk}


def test_saas_statuses_go_after_400_days_but_each_sources_newest_stays(cast):
    def source(name):
        return SaasSource.objects.create(account=cast.account_a, organization=cast.org_a1, kind="m365",
                                         name=name, external_id=name)
    live, silent = source("live"), source("silent")
    for d in (500, 450, 10):
        SaasDailyStatus.objects.create(account=cast.account_a, source=live, date=NOW.date() - timedelta(days=d),
                                       status="Successful")
    for d in (500, 450):
        SaasDailyStatus.objects.create(account=cast.account_a, source=silent, date=NOW.date() - timedelta(days=d),
                                       status="Failed")
    prune()
    kept = set(SaasDailyStatus.objects.values_list("source__name", "date"))
    assert kept == {("live", NOW.date() - timedelta(days=10)), ("silent", NOW.date() - timedelta(days=450))}


# --- Dry run, the command, the beat task, settings -------------------------------

def test_a_dry_run_deletes_nothing_and_says_what_would_go_and_what_stays(cast, appliance):
    asset = make_asset(appliance)
    for d in (600, 500, 450):
        make_backup(asset, days_ago(d))
    make_backup(asset, days_ago(440), status="failed")
    result = prune(dry_run=True)
    assert Backup.objects.count() == 4
    backups = result["backups"]
    assert (backups.deleted, backups.kept_old) == (2, 2)
    sentence = backups.sentence(dry_run=True)
    assert sentence.startswith("Backups older than 400 days (before 2025-09-28 12:00 UTC): 2 would be deleted")
    assert "2 as old stay: each asset's newest backup, newest good backup" in sentence


def test_the_prune_command_dry_run_prints_sentences_and_deletes_nothing(cast, appliance, capsys):
    asset = make_asset(appliance)
    for d in (600, 500, 450):
        make_backup(asset, days_ago(d))
    call_command("prune", "--dry-run", "--now", NOW.isoformat())
    out = capsys.readouterr().out
    assert "Dry run: nothing is deleted." in out
    assert "Backups older than 400 days" in out and "Evaluations older than 30 days" in out
    assert Backup.objects.count() == 3
    call_command("prune", "--now", NOW.isoformat())
    assert "2 deleted" in capsys.readouterr().out and Backup.objects.count() == 1


def test_an_age_of_0_keeps_rows_forever(cast, appliance, settings):
    settings.RETENTION_BACKUP_DAYS = 0
    asset = make_asset(appliance)
    for d in (600, 500, 450):
        make_backup(asset, days_ago(d))
    result = prune()
    assert Backup.objects.count() == 3
    assert result["backups"].sentence(dry_run=False) == "Backups: kept forever (the age is 0)."


def test_beat_prunes_once_a_day_through_a_named_task():
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "observability.tasks.prune"]
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {17}
    assert prune_task.name == "observability.tasks.prune"
    app.loader.import_default_modules()
    assert "observability.tasks.prune" in app.tasks


def test_the_task_prunes(cast, appliance):
    asset = make_asset(appliance)
    old = make_backup(asset, NOW - timedelta(days=settings.RETENTION_BACKUP_DAYS + 1000))
    make_backup(asset, NOW - timedelta(days=settings.RETENTION_BACKUP_DAYS + 999))
    prune_task()
    assert not Backup.objects.filter(pk=old.pk).exists()


def test_r18_1_backups_and_saas_statuses_cannot_be_kept_less_than_a_year(monkeypatch):
    monkeypatch.setenv("RETENTION_BACKUP_DAYS", "90")
    with pytest.raises(ImproperlyConfigured, match="at least 366 days .R18.1"):
        env_days("RETENTION_BACKUP_DAYS", 400, 366, "R18.1: a year of compliance")
    monkeypatch.setenv("RETENTION_BACKUP_DAYS", "0")
    assert env_days("RETENTION_BACKUP_DAYS", 400, 366) == 0
    monkeypatch.setenv("RETENTION_BACKUP_DAYS", "-3")
    with pytest.raises(ImproperlyConfigured):
        env_days("RETENTION_BACKUP_DAYS", 400, 366)
    assert (settings.RETENTION_BACKUP_DAYS, settings.RETENTION_SAAS_STATUS_DAYS) == (400, 400)


# --- Compliance history (R18.1) ----------------------------------------------------

def test_r18_1_compliance_months_and_days_past_their_age_go(cast, appliance):
    """A subject's month goes once its last day is past the age, so a year is always kept whole
    (the setting's floor is 366 days); the organizations' days go at that age."""
    from reports.models import OrganizationDay, SubjectMonth

    asset = make_asset(appliance)
    source = SaasSource.objects.create(account=cast.account_a, organization=cast.org_a1, kind="m365", name="T",
                                       external_id="t")
    keep = settings.RETENTION_COMPLIANCE_DAYS
    cutoff = days_ago(keep).date()

    def month_before(month):
        return (month - timedelta(days=1)).replace(day=1)

    cutoff_month = cutoff.replace(day=1)
    months = [month_before(month_before(cutoff_month)), month_before(cutoff_month), cutoff_month,
              days_ago(3).date().replace(day=1)]
    for month in months:
        SubjectMonth.objects.create(account=cast.account_a, organization=cast.org_a1, asset=asset, month=month,
                                    states="g" * 28)
        SubjectMonth.objects.create(account=cast.account_a, organization=cast.org_a1, saas_source=source, month=month,
                                    states="m" * 28)
    ages = (keep + 30, keep + 1, keep - 1, 3)
    for age in ages:
        OrganizationDay.objects.create(account=cast.account_a, organization=cast.org_a1, day=days_ago(age).date(),
                                       protected=2, compliant=1, ratio=0.5)

    result = prune()

    assert set(SubjectMonth.objects.filter(asset=asset).values_list("month", flat=True)) == set(months[2:])
    assert set(SubjectMonth.objects.filter(saas_source=source).values_list("month", flat=True)) == set(months[2:])
    assert set(OrganizationDay.objects.values_list("day", flat=True)) == {days_ago(age).date() for age in ages[2:]}
    assert result["compliance months of assets and SaaS sources"].deleted == 4
    assert result["compliance days of organizations"].deleted == 2
    assert prune()["compliance months of assets and SaaS sources"].deleted == 0
