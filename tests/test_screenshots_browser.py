"""The screenshots of the README (docs/screenshots/): the overview, an asset page and an appliance
page at 1440 px and at 390 px, taken in the real Chromium from a realistic account.

`SCREENSHOTS=1 scripts/test.sh tests/test_screenshots_browser.py` writes them into docs/screenshots/;
otherwise they go to a temporary directory, and the test still checks each page renders at both
widths without sideways scroll."""

import os
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from inventory.models import ApplianceStorageSample, Backup, Job
from tests.browser import PHONE, log_in
from tests.conftest import PASSWORD
from tests.test_overview_browser import overview_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TB = 10**12
WIDE = {"width": 1440, "height": 900}


def scene():
    cast = overview_cast()
    now = timezone.now()
    appliance = cast.sql.appliance
    appliance.version, appliance.logical_capacity_bytes, appliance.logical_free_bytes = "10.5.0", 20 * TB, 6 * TB
    appliance.purge_eligible_backups = 12
    appliance.save()
    for hours in range(0, 30 * 24, 6):
        used = 9 * TB + (30 * 24 - hours) * 0.0065 * TB
        ApplianceStorageSample.objects.create(account=cast.account_a, appliance=appliance, at=now - timedelta(hours=hours),
                                              capacity_bytes=20 * TB, free_bytes=int(20 * TB - used))
    for day in range(30):
        status = "failed" if day in (3, 4, 11) else "warning" if day in (8, 17) else "success"
        if day in (5, 12):
            continue  # missed
        started = (now - timedelta(days=day)).replace(hour=1, minute=0)
        for asset in (cast.sql, cast.files):
            Backup.objects.create(account=cast.account_a, asset=asset, external_id=f"{asset.pk}-{day}", status=status,
                                  started_at=started, finished_at=started + timedelta(minutes=40),
                                  size_bytes=180 * 10**9)
    Job.objects.create(account=cast.account_a, appliance=appliance, asset=cast.sql, external_id="501", state="running",
                       progress_percent=35, started_at=now - timedelta(minutes=12), details={"name": "SQL nightly"})
    return cast


def png_width(path) -> int:
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


def test_screenshots_of_the_overview_an_asset_and_an_appliance_at_1440_and_390_px(live_server, module_page, tmp_path):
    cast = scene()
    folder = DOCS if os.environ.get("SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    pages = {"overview": "/", "asset": f"/assets/{cast.sql.pk}/", "appliance": f"/appliances/{cast.sql.appliance_id}/"}
    for width, viewport in ((1440, WIDE), (390, PHONE)):
        page = module_page.open_page(viewport=viewport)
        log_in(page, live_server, "super@a.example", PASSWORD, then="/")
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width, f"{name} at {width} px"
            shot = folder / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert png_width(shot) == width
