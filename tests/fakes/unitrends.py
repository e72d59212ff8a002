"""The fake Unitrends appliance for tests: the server core lives in `demo/unitrends_fake.py`
(the demo serves its appliances with it too); here, a small known data set and fixtures."""

from datetime import UTC, datetime, timedelta

import pytest

from demo.unitrends_fake import FakeAppliance, FakeApplianceServer
from integrations.models import Integration

__all__ = ["FakeAppliance", "FakeApplianceServer", "populate", "fake_unitrends", "unitrends_integration"]
T0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)


def populate(appliance: FakeAppliance, start=T0, days=3):
    """Two assets (one hot-copied), a daily schedule, `days` of backups, copies, a certification,
    a running job and two alerts."""
    appliance.add_asset(101, "fs-01", "windows")
    appliance.add_asset(102, "sql-01", "sql")
    appliance.add_schedule(1, "Nightly", [101, 102], "FREQ=DAILY;BYHOUR=22;BYMINUTE=0")
    appliance.add_schedule(2, "To the cloud", [101], "FREQ=DAILY;BYHOUR=23;BYMINUTE=0", type_="Replication")
    for day in range(days):
        at = start + timedelta(days=day)
        appliance.add_backup(1000 + day, 101, at, mode="Full" if day == 0 else "Incremental", size_mb=2048 + day)
        appliance.add_backup(2000 + day, 102, at, status="Failed" if day == days - 1 else "Success",
                             message="VSS writer timed out")
        appliance.add_copy(True, 101, 1000 + day, at + timedelta(hours=1))
    appliance.add_copy(False, 102, 2000, start + timedelta(hours=2), target="AWS S3")
    appliance.certifications.append({"instance_id": 101, "status": "Success",
                                     "last_run": int((start + timedelta(hours=5)).timestamp())})
    appliance.add_job(501, "sql-01", percent=35)
    appliance.add_alert(9001, "storage", "Storage internal is 96% full", severity="critical")
    appliance.add_alert(9002, "license", "Support contract expires in 12 days")
    return appliance


@pytest.fixture
def fake_unitrends():
    server = FakeApplianceServer({"": populate(FakeAppliance("ueb-01", "10.8.2"))}).start()
    yield server
    server.stop()


def unitrends_integration(account, organization, server, password="unitrends1", name="ueb-01"):
    return Integration.objects.create(
        account=account, kind=Integration.Kind.UNITRENDS, name=name, base_url=server.url() + "/api/",
        credentials={"username": "root", "password": password}, options={"organization": organization.pk},
    )
