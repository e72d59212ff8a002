"""The demo's Unitrends appliances, served by the fake appliance server under `make run`.

`python -m demo.appliance_server` serves three appliances on 127.0.0.1:$DEMO_APPLIANCE_PORT
(default 8790): a current one, one older than 10.6.1 (R2.2), and one nearly full
with nothing to purge (R10). Their jobs progress while it runs, so a new user
sees syncing, categories and purging alerts live. `connect(account)` registers
them as integrations of the demo account (idempotent) and syncs them once.
"""

import os
import random
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

from fakes.unitrends import FakeAppliance, UnitrendsFake

PORT = int(os.environ.get("DEMO_APPLIANCE_PORT", "8790"))
USERNAME, PASSWORD = "demo", "demo-appliance"
# (path prefix, organization index in demo.builder.ORGANIZATIONS, version, state)
APPLIANCES = [
    ("lab-ueb-01", 0, "10.9.0", "ok"),
    ("lab-old-02", 2, "10.4.2", "old"),
    ("lab-full-03", 4, "10.8.2", "full"),
]
ASSETS = [("dc01", "windows"), ("sql01", "sql"), ("vm-web", "vmware"), ("files", "nas")]
ALERTS = [
    ("security", "critical", "Possible ransomware detected on share \\\\files\\finance"),
    ("license", "warning", "Support contract expires in 12 days"),
    ("updates", "notice", "Appliance update 10.10.0 is available"),
    ("hot_copy", "warning", "Backup copy to the Unitrends Cloud failed: connection timed out"),
]


def build_appliance(name, version, state, now, seed=11, index=0) -> FakeAppliance:
    rng = random.Random(f"{seed}-{name}")
    appliance = FakeAppliance(name, version, USERNAME, PASSWORD)
    if state == "full":
        appliance.storage[0].update(mb_size=8_000_000, mb_free=int(8_000_000 * 0.032))
        appliance.eligible_backups = 0
    start = datetime(now.year, now.month, now.day, 21, 0, tzinfo=UTC) - timedelta(days=14)
    backup_id = 1
    for n, (suffix, kind) in enumerate(ASSETS, start=1):
        appliance.add_asset(n, f"{name.split('-')[0]}-{suffix}", kind)
    # Incrementals every night and a full once a week, as Unitrends job orders usually go (R4.7).
    appliance.add_schedule(1, "Nightly incremental", [1, 2, 3, 4], "FREQ=DAILY;BYHOUR=21;BYMINUTE=0")
    full_day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]
    appliance.add_schedule(3, "Weekly full", [1, 2, 3, 4], f"FREQ=WEEKLY;BYDAY={full_day};BYHOUR=21;BYMINUTE=0")
    appliance.add_schedule(2, "To the Unitrends Cloud", [1, 2], "FREQ=DAILY;BYHOUR=23;BYMINUTE=0", type_="Replication")
    for day in range(14):
        at = start + timedelta(days=day)
        if at > now:
            break
        for asset_id in (1, 2, 3, 4):
            status = "Failed" if rng.random() < 0.06 else ("Warning" if rng.random() < 0.05 else "Success")
            appliance.add_backup(backup_id, asset_id, at + timedelta(minutes=7 * asset_id), rng.randint(10, 80), status,
                                 "Full" if day % 7 == 0 else "Incremental", rng.randint(2_000, 90_000),
                                 "VSS snapshot creation failed (0x8004230f)" if status == "Failed" else "")
            if asset_id in (1, 2) and status != "Failed":
                appliance.add_copy(True, asset_id, backup_id, at + timedelta(hours=2))
            if asset_id == 4 and day % 7 == 0:
                appliance.add_copy(False, asset_id, backup_id, at + timedelta(hours=3), target="Tape library")
            backup_id += 1
    appliance.certifications.append({"instance_id": 1, "status": "Success",
                                     "last_run": int((now - timedelta(days=1)).timestamp())})
    appliance.add_job(700, f"{name.split('-')[0]}-sql01", percent=rng.randint(5, 60))
    first = index % len(ALERTS)  # each appliance reports a different pair
    for n, (category, severity, message) in enumerate([ALERTS[first], ALERTS[(first + 1) % len(ALERTS)]], start=1):
        appliance.add_alert(n, category, message, severity, now - timedelta(hours=n))
    return appliance


def _tick(appliances, stop):
    """While the demo runs, jobs progress; a finished job becomes a backup and a new one starts."""
    while not stop.wait(60):
        for appliance in appliances:
            with appliance.lock:
                for job in list(appliance.active_jobs.values()):
                    job["percent_complete"] = min(100, job["percent_complete"] + 7)
                    if job["percent_complete"] >= 100:
                        del appliance.active_jobs[job["id"]]
                        appliance.active_jobs[job["id"] + 1] = {**job, "id": job["id"] + 1, "percent_complete": 0}


def serve(port=PORT, now=None) -> UnitrendsFake:
    now = now or datetime.now(UTC)
    appliances = {
        name: build_appliance(name, version, state, now, index=index)
        for index, (name, _, version, state) in enumerate(APPLIANCES)
    }
    server = UnitrendsFake(appliances, port=port).start()
    threading.Thread(target=_tick, args=(list(appliances.values()), threading.Event()), daemon=True).start()
    return server


def connect(account, port=PORT, now=None) -> int:
    """Register the demo appliances as Unitrends integrations of `account` and sync each once."""
    from django.db import transaction
    from django.utils import timezone

    from integrations.models import Integration
    from integrations.pollers import poll
    from tenancy.models import Organization

    orgs = list(Organization.objects.filter(account=account).order_by("pk"))
    reachable = _listening(port)
    synced = 0
    for name, org_index, _, _ in APPLIANCES:
        with transaction.atomic():
            integration, _ = Integration.objects.get_or_create(
                account=account, kind=Integration.Kind.UNITRENDS, name=name,
                defaults={"base_url": f"http://127.0.0.1:{port}/{name}/api/",
                          "credentials": {"username": USERNAME, "password": PASSWORD},
                          "options": {"organization": orgs[org_index % len(orgs)].pk}},
            )
        if reachable:  # otherwise the beat syncs them once the server is up
            poll(integration, now or timezone.now())
            integration.refresh_from_db()
            synced += bool(integration.last_sync_ok)
    return synced


def _listening(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main():
    server = serve()
    print(f"Demo appliances on {server.url}: {', '.join(name for name, *_ in APPLIANCES)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
