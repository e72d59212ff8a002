"""R18.3: the monthly PDF of the demo's first organization, as PNG pages in docs/screenshots/
(shown in the README), from the demo's own history (the demo back-fills compliance, R18.1)."""

import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from demo import builder
from reports import monthly
from reports.models import OrganizationDay, subject_days
from tenancy.models import Organization

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_r18_3_the_demos_first_monthly_report_as_png_pages(tmp_path):
    account = builder.build(now=NOW)
    first = Organization.objects.filter(account=account).order_by("name").first()
    assert first.name == "Acme Dental"
    days = OrganizationDay.objects.filter(organization=first)
    assert days.count() == builder.HISTORY_DAYS  # the demo back-filled its two weeks
    assert any(row.state == "good" for row in subject_days(first, date(2026, 11, 16), date(2026, 11, 29)))

    pdf = monthly.pdf(first, date(2026, 11, 1))
    assert pdf.startswith(b"%PDF")
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages, "the PDF has no page"
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("monthly-report-*.png"):
        old.unlink()
    for number, page in enumerate(pages, 1):
        target = SCREENSHOTS / f"monthly-report-{number}.png"
        target.write_bytes(page.read_bytes())
        assert target.stat().st_size > 5_000  # a page with something on it
