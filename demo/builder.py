"""The "Demo MSP" account: enough organizations, appliances, assets and two weeks
of backup history that every rule has something to find."""

import json
import random
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertSettings
from inventory.models import Appliance, Asset, AssetType, Backup, BackupCopy, BackupSchedule
from reports import compliance
from reports.models import ReportSettings
from tenancy.accounts import add_member
from tenancy.models import Account, Organization, Role
from thresholds.models import GlobalThreshold

DEMO_NAME = "Demo MSP"
ROLES = [
    ("superuser", "demo-super@example.com", Role.SUPERUSER),
    ("admin", "demo-admin@example.com", Role.ADMIN),
    ("monitor", "demo-monitor@example.com", Role.MONITOR),
]
ORGANIZATIONS = [
    "Acme Dental", "Birchwood Legal", "Cedar Logistics", "Delta Veterinary", "Evergreen Schools",
    "Foxglove Accounting", "Granite Construction", "Harbor Clinic", "Ironwood Manufacturing", "Juniper Realty",
]
# (organization index, name, version, time zone, state)
APPLIANCES = [
    (0, "acme-ueb-01", "10.8.2", "America/New_York", "ok"),
    (1, "birchwood-r1", "10.7.5", "America/Chicago", "ok"),
    (2, "cedar-ueb", "10.5.3", "America/Denver", "ok"),  # older than 10.6.1 (R2.2)
    (3, "delta-r2", "10.8.0", "America/Los_Angeles", "offline"),
    (4, "evergreen-ueb", "10.10.0", "Europe/London", "full"),  # nearly full, nothing to purge (R10)
    (5, "foxglove-r1", "10.8.2", "America/New_York", "ok"),
    (6, "granite-ueb", "10.9.1", "America/Chicago", "ok"),
    (7, "harbor-r1", "10.8.2", "America/New_York", "ok"),
    (8, "ironwood-ueb", "10.6.1", "America/Detroit", "ok"),
    (9, "juniper-r1", "10.9.0", "Europe/Paris", "ok"),
]
OFFLINE = {"delta-r2"}
TB = 1024 ** 4
HISTORY_DAYS = 14


def credentials_path():
    return settings.VAR_DIR / "demo-logins.json"


def _passwords(reset: bool) -> dict:
    path = credentials_path()
    if path.exists() and not reset:
        return json.loads(path.read_text())
    passwords = {role: f"demo-{secrets.token_urlsafe(9)}" for role, _, _ in ROLES}
    path.write_text(json.dumps(passwords))
    path.chmod(0o600)
    return passwords


def logins() -> list[tuple[str, str, str]]:
    passwords = json.loads(credentials_path().read_text()) if credentials_path().exists() else {}
    return [(role, email, passwords.get(role, "(set at first seed)")) for role, email, _ in ROLES]


@transaction.atomic
def build(now=None, seed=7) -> Account:
    """Build the demo account unless it exists (idempotent)."""
    account = Account.objects.filter(is_demo=True).first()
    if account is not None:
        if not credentials_path().exists():
            _set_logins(account, reset=True)
        return account
    now = now or timezone.now()
    rng = random.Random(seed)
    account = Account.objects.create(name=DEMO_NAME, is_demo=True)
    orgs = [Organization.objects.create(account=account, name=name) for name in ORGANIZATIONS]
    _set_logins(account, reset=True)
    AlertSettings.objects.create(account=account, emails=["noc@demo-msp.example"])
    GlobalThreshold.objects.create(account=account, backups_hours=26, hot_copy_hours=48)
    for org_index, name, version, tz, state in APPLIANCES:
        appliance = Appliance.objects.create(
            account=account, organization=orgs[org_index], external_id=name, name=name, version=version,
            timezone=tz, status="offline" if state == "offline" else "online",
            last_contact_at=now - timedelta(hours=3) if state == "offline" else now,
            logical_capacity_bytes=20 * TB,
            logical_free_bytes=int(20 * TB * (0.031 if state == "full" else rng.uniform(0.2, 0.6))),
            purge_eligible_backups=0 if state == "full" else rng.randint(3, 40),
        )
        _assets(account, appliance, rng, now)
    # R18.1: the compliance history of the two weeks of backups, so the reports have days to show.
    ReportSettings.objects.create(account=account, time_zone="America/New_York", msp_name=DEMO_NAME)
    compliance.backfill(account, HISTORY_DAYS, today=compliance.local_today(account, now))
    return account


def _set_logins(account, reset):
    passwords = _passwords(reset)
    for role, email, value in ROLES:
        add_member(account, email, passwords[role], role=value)


def _assets(account, appliance, rng, now):
    tz = ZoneInfo(appliance.timezone)
    types = list(AssetType.values)
    backups, copies = [], []
    for n in range(6):
        asset = Asset(
            appliance=appliance, external_id=f"{appliance.name}-a{n}", name=f"{appliance.name.split('-')[0]}-{['dc', 'sql', 'files', 'web', 'exch', 'app'][n]}{n:02d}",
            type=types[(n + len(appliance.name)) % len(types)], hot_copy=n % 2 == 0,
        )
        asset.save()
        hour = rng.choice([20, 21, 22, 23])
        BackupSchedule.objects.create(
            account=account, asset=asset, name="Nightly incremental", rrule=f"FREQ=DAILY;BYHOUR={hour};BYMINUTE=0",
            dtstart=datetime(2026, 1, 1, hour, 0).isoformat(),
        )
        if n < 3:  # a weekly full on top, on the day the demo's full backups run (R4.7)
            full_day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[(now - timedelta(days=14)).astimezone(tz).weekday()]
            BackupSchedule.objects.create(
                account=account, asset=asset, name="Weekly full",
                rrule=f"FREQ=WEEKLY;BYDAY={full_day};BYHOUR={hour};BYMINUTE=0",
                dtstart=datetime(2026, 1, 1, hour, 0).isoformat(),
            )
        stopped_days_ago = 3 if n == 5 and rng.random() < 0.5 else 0  # some assets stopped backing up
        for day in range(HISTORY_DAYS, stopped_days_ago, -1):
            local_start = (now.astimezone(tz) - timedelta(days=day)).replace(hour=hour, minute=0, second=0, microsecond=0)
            start = local_start.astimezone(ZoneInfo("UTC"))
            status = "failed" if rng.random() < 0.05 else ("warning" if rng.random() < 0.05 else "success")
            backup = Backup(
                account=account, asset=asset, external_id=f"{asset.external_id}-b{day}",
                type="full" if day % 7 == 0 else "incremental", status=status, started_at=start,
                finished_at=start + timedelta(minutes=rng.randint(10, 90)),
                size_bytes=rng.randint(2, 400) * 1024 ** 3,
                error="VSS snapshot creation failed (0x8004230f)" if status == "failed" else "",
            )
            backups.append(backup)
            if asset.hot_copy and status != "failed":
                copy_status = "failed" if rng.random() < 0.04 else "success"
                copies.append(BackupCopy(
                    account=account, asset=asset, backup=backup, external_id=f"{backup.external_id}-hot",
                    target="hot", status=copy_status, started_at=backup.finished_at + timedelta(minutes=5),
                    finished_at=backup.finished_at + timedelta(minutes=rng.randint(20, 120)),
                    error="Connection to the Unitrends Cloud timed out" if copy_status == "failed" else "",
                ))
    Backup.objects.bulk_create(backups)
    BackupCopy.objects.bulk_create(copies)
