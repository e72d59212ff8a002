"""Benchmark of evaluation by due time (issue 17, items 2, 3 and 5).

    python -m bench.due generate   # once: the data sets (skipped when present)
    python -m bench.due idle       # idle cycles: N open alerts, and the big account with nothing due
    python -m bench.due full       # full evaluations of the big account, nothing due then every asset due
    python -m bench.due split      # the full evaluation split per organizations, on 1 and on 2 workers
    python -m bench.due all        # the three, writing bench/RESULTS_due.md

The data, relative to the present (a due-time cycle evaluates the present): a big account
of DUE_BENCH_ASSETS assets (default 1,000,000) on 1,000 appliances in 200 organizations,
each on a daily schedule with a good backup after its last start, with 2,000 SaaS sources and
5,000 Azure assets backed up an hour ago, so nothing alarms and nothing is due; and an account of 10,000 assets that never had a backup, so a full
evaluation opens 10,000 alarms, after which nothing is due. Rows go in with COPY.
Each step runs in its own process so the memory figure is its own; each figure is
printed with the load average of the (shared) machine.
"""

import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uniview.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.evaluation import evaluate, evaluate_due  # noqa: E402
from alerts.models import Alert, AlertSettings, Evaluation  # noqa: E402
from bench.rows import copy_rows, next_ids  # noqa: E402
from inventory.models import (  # noqa: E402
    Appliance,
    Asset,
    AzureAsset,
    Backup,
    BackupSchedule,
    NextCheck,
    SaasSource,
)
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Account, Organization  # noqa: E402
from thresholds.models import GlobalThreshold  # noqa: E402

ASSETS = int(os.environ.get("DUE_BENCH_ASSETS", "1000000"))
BIG = f"Due bench ({ASSETS:,} assets)"
OPEN = "Due bench (10,000 open alarms)"
RESULTS = Path(__file__).with_name("RESULTS_due.md")
LINES = Path(os.environ.get("UNIVIEW_VAR_DIR", "/tmp")) / "due-bench-lines.txt"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(line: str) -> None:
    print(line, flush=True)
    with LINES.open("a") as out:
        out.write(line + "\n")


def build(name, assets, organizations, appliances, backed_up, next_check_at):
    now = timezone.now()
    started = time.monotonic()
    with transaction.atomic():
        account = create_account(name)
        AlertSettings.objects.create(account=account, emails=[])
        GlobalThreshold.objects.create(account=account, backups_hours=24, hot_copy_hours=24)
        Organization.objects.bulk_create(
            [Organization(account=account, name=f"Customer {n:04d}") for n in range(organizations)])
        orgs = list(Organization.objects.filter(account=account).values_list("id", flat=True))
        Appliance.objects.bulk_create([
            Appliance(account=account, organization_id=orgs[n % len(orgs)], external_id=f"ua-{n}", name=f"ua-{n:04d}",
                      version="10.8.2", timezone="UTC", last_contact_at=now + timedelta(days=2),
                      logical_capacity_bytes=100, logical_free_bytes=50, purge_eligible_backups=5)
            for n in range(appliances)
        ])
        boxes = list(Appliance.objects.filter(account=account).values_list("id", "organization_id"))
        later = now + (next_check_at if next_check_at is not None else timedelta(hours=12))
        SaasSource.objects.bulk_create([  # each due at the next midnight at the latest: not now
            SaasSource(account=account, organization_id=orgs[n % len(orgs)], kind="m365", name=f"tenant-{n}",
                       external_id=f"tenant-{n}") for n in range(2 * appliances)
        ])
        AzureAsset.objects.bulk_create([
            AzureAsset(account=account, organization_id=orgs[n % len(orgs)], client_external_id="c", client_name="c",
                       external_id=f"vm-{n}", name=f"vm-{n}", last_successful_backup_at=now - timedelta(hours=1),
                       ) for n in range(5 * appliances)
        ])
        ids = next_ids(Asset, assets)
        hour = (now - timedelta(hours=2)).hour  # the last start: two hours ago, backed up since
        moment = now + next_check_at if next_check_at is not None else now - timedelta(days=36500)
        copy_rows(Asset, ["id", "account_id", "appliance_id", "organization_id", "external_id", "name", "type",
                      "hot_copy", "created_at", "updated_at"],
              ((pk, account.pk, *boxes[n % len(boxes)], f"vm-{pk}", f"vm-{pk}", "vmware", False, now, now)
               for n, pk in enumerate(ids)))
        # Every row got its next moment, due, from the database; set them as if evaluated.
        checks = NextCheck.objects.filter(account=account)
        checks.filter(kind="asset").update(next_check_at=moment)
        checks.filter(kind="appliance").update(next_check_at=now + timedelta(days=2))
        checks.filter(kind__in=["saas", "azure"]).update(next_check_at=later)
        copy_rows(BackupSchedule, ["account_id", "asset_id", "name", "rrule", "dtstart"],
              ((account.pk, pk, "Daily", f"FREQ=DAILY;BYHOUR={hour};BYMINUTE=0", f"2026-09-01T{hour:02d}:00:00")
               for pk in ids))
        if backed_up:
            copy_rows(Backup, ["account_id", "asset_id", "external_id", "type", "status", "started_at", "finished_at",
                           "size_bytes", "error"],
                  ((account.pk, pk, f"b{pk}", "full", "success", now - timedelta(hours=1, minutes=50),
                    now - timedelta(hours=1), 1, "") for pk in ids))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated {name}: {assets:,} assets in {time.monotonic() - started:.1f} s ({load()})", flush=True)


def generate():
    if not Account.objects.filter(name=BIG).exists():
        # Nothing due for 12 hours: as if a full evaluation had just run (`full` runs one).
        build(BIG, ASSETS, 200, 1000, backed_up=True, next_check_at=timedelta(hours=12))
    if not Account.objects.filter(name=OPEN).exists():
        build(OPEN, 10_000, 20, 20, backed_up=False, next_check_at=None)


def _timed(call):
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def idle():
    opened = Account.objects.get(name=OPEN)
    if not Alert.objects.filter(account=opened, state="open").exists():
        seconds, run = _timed(lambda: evaluate(opened, timezone.now()))
        record(f"| full evaluation raising {run.raised:,} alarms (10,000 assets) | {seconds:.2f} s | {load()} |")
    for account, label in ((opened, "idle cycle, 10,000 open alarms, nothing due"),
                           (Account.objects.get(name=BIG), f"idle cycle, {ASSETS:,} assets, nothing due")):
        before = Evaluation.objects.count()
        times = sorted(_timed(lambda a=account: evaluate_due(a, timezone.now()))[0] for _ in range(5))
        written = Evaluation.objects.count() - before
        record(f"| {label} (median of 5; rows written: {written}) | {times[2] * 1000:.0f} ms | {load()} |")


def full():
    """The full evaluation, nothing due (what `manage.py evaluate` or a person's request runs);
    then, in a process of its own, after a threshold change: every asset due (`full-due`)."""
    account = Account.objects.get(name=BIG)
    seconds, run = _timed(lambda: evaluate(account, timezone.now()))
    record(f"| full evaluation, {ASSETS:,} assets, nothing due (raised {run.raised}, kept {run.kept}) "
           f"| {seconds:.1f} s, {memory_mb():.0f} MB peak RSS | {load()} |")
    if os.environ.get("DUE_BENCH_FULL_DUE", "1") == "1":
        subprocess.run([sys.executable, "-m", "bench.due", "full-due"], check=True)


def full_due():
    """After a threshold change (R4.6) every asset is due: the full evaluation computes and writes
    every asset's next moment, a batch at a time. Leaves nothing due, as the data set expects."""
    from inventory.due import account_changed

    account = Account.objects.get(name=BIG)
    with transaction.atomic():
        account_changed(account.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_nextcheck")  # as autovacuum would after a million updates
    seconds, run = _timed(lambda: evaluate(account, timezone.now()))
    record(f"| full evaluation, {ASSETS:,} assets, every one due after a threshold change (raised {run.raised}) "
           f"| {seconds:.1f} s ({seconds / ASSETS * 1e6:.0f} µs per asset), {memory_mb():.0f} MB peak RSS "
           f"| {load()} |")


def _workers(count):
    env = {**os.environ}
    return [subprocess.Popen([sys.executable, "-m", "celery", "-A", "uniview", "worker", "-c", "1", "-n",
                              f"due-bench-{n}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle",
                              "-l", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for n in range(count)]


def split():
    from alerts.tasks import evaluate_split

    account = Account.objects.get(name=BIG)
    for count in (1, 2):
        workers = _workers(count)
        try:
            time.sleep(8)  # the workers connect
            before = Evaluation.objects.filter(account=account).count()
            started = time.monotonic()
            tasks = evaluate_split(account.pk, size=20)
            while Evaluation.objects.filter(account=account, skipped=False).count() - before < tasks:
                time.sleep(0.5)
                if time.monotonic() - started > 1800:
                    raise SystemExit("split evaluation did not finish in 30 minutes")
            record(f"| full evaluation split into {tasks} tasks, {count} worker{'s' if count > 1 else ''} "
                   f"(1 process each) | {time.monotonic() - started:.1f} s | {load()} |")
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)


def write_results():
    lines = LINES.read_text().splitlines() if LINES.exists() else []
    RESULTS.write_text(
        "# Evaluation by due time\n\n"
        "`make bench` (`python -m bench.due all`) on the shared 2-core machine; each figure with the load\n"
        "average at the moment it was taken. Floor for an idle cycle: the issue's floor of raising 10,000\n"
        "alarms with one INSERT … SELECT per table, 0.31–0.36 s.\n\n"
        "| figure | measured | machine |\n|---|---|---|\n" + "\n".join(lines) + "\n"
    )


def main(step):
    if step == "generate":
        generate()
    elif step == "all":
        LINES.unlink(missing_ok=True)
        for part in ("idle", "full", "split"):
            subprocess.run([sys.executable, "-m", "bench.due", part], check=True)
        write_results()
    else:
        {"idle": idle, "full": full, "full-due": full_due, "split": split}[step]()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "all")
