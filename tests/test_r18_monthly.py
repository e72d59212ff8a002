"""R18.3: the monthly report per organization — a dashboard page, a PDF made from it, a CSV of
the rows, emailed on the first of the month once; and the reports' API and settings (R18)."""

import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from PIL import Image

from inventory.models import Backup
from reports import monthly, outbox
from reports.compliance import local_today
from reports.models import OrganizationDay, ReportDelivery, ReportSettings
from reports.tasks import queue, sweep
from tests.conftest import PASSWORD, api_client, build_cast, make_appliance, make_asset, record_day
from tests.r18_helpers import make_alert, make_days
from tests.workers import Worker, wait_for

OCTOBER_END = date(2026, 10, 31)
FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, the first of the month


def history(cast):
    account = cast.account_a
    ReportSettings.objects.create(account=account, time_zone="Europe/Berlin", msp_name="Acme IT Services",
                                  monthly_enabled=True, monthly_recipients=["reports@msp-a.example"])
    cast.org_a1.report_contact = "cfo@acme.example"
    cast.org_a1.save()
    make_days(account, cast.org_a1, OCTOBER_END, [4] * 20 + [3] * 10)  # 30 of 31 days: 4/4, then 3/4
    asset = make_asset(make_appliance(account, cast.org_a1, "acme-1"), "fileserver")
    for day in (10, 11):
        Backup.objects.create(account=account, asset=asset, external_id=f"f{day}", status="failed",
                              started_at=datetime(2026, 10, day, 21, tzinfo=UTC),
                              finished_at=datetime(2026, 10, day, 22, tzinfo=UTC), error="VSS snapshot failed")
    record_day(asset, date(2026, 10, 10), "failed")
    make_alert(account, cast.org_a1, "No good backup of fileserver within 24 h",
               datetime(2026, 10, 11, 22, tzinfo=UTC), state="resolved",
               resolved_at=datetime(2026, 10, 12, 0, 30, tzinfo=UTC))  # 2 h 30 min
    make_alert(account, cast.org_a1, "Appliance acme-1 offline", datetime(2026, 10, 20, 8, tzinfo=UTC),
               state="resolved", resolved_at=datetime(2026, 10, 20, 8, 30, tzinfo=UTC))  # 30 min: mean 1 h 30 min
    return asset


def signed_in(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_r18_3_the_monthly_page_shows_trend_grid_failures_and_time_to_resolve(cast):
    history(cast)
    response = signed_in(cast.monitor_a).get(f"/reports/monthly/{cast.org_a1.pk}/?month=2026-10")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Backup report: Acme" in page and "Acme IT Services" in page and "October 2026" in page
    assert "<svg" in page and "<polyline" in page  # the trend, drawn by the server
    assert "91.7 %" in page  # days 2–31: 20 × 4/4 and 10 × 3/4 = 110/120
    assert "fileserver" in page and "VSS snapshot failed" in page
    assert "1 h 30 min" in page  # mean time to resolve of the two alerts
    assert "state-failed" in page
    assert "style=" not in page.split("<main", 1)[1]  # the strict CSP: no inline style
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_r18_3_another_accounts_organization_is_404_everywhere(cast):
    history(cast)
    client = signed_in(cast.superuser_b)
    for url in (f"/reports/monthly/{cast.org_a1.pk}/", f"/reports/monthly/{cast.org_a1.pk}/pdf/",
                f"/reports/monthly/{cast.org_a1.pk}/csv/"):
        assert client.get(url).status_code == 404, url
    api = api_client(cast.superuser_b)
    assert api.get(f"/api/v1/reports/compliance/?organization={cast.org_a1.pk}").status_code == 404
    assert api.get(f"/api/v1/organizations/{cast.org_a1.pk}/monthly-report/?month=2026-10").status_code == 404
    scoped = api_client(cast.scoped_admin_a)  # limited to Birch (R1.4)
    assert scoped.get(f"/api/v1/reports/compliance/?organization={cast.org_a1.pk}").status_code == 404


@pytest.mark.django_db
def test_r18_3_the_pdf_and_the_csv(cast):
    history(cast)
    pdf = signed_in(cast.monitor_a).get(f"/reports/monthly/{cast.org_a1.pk}/pdf/?month=2026-10")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000
    api = api_client(cast.monitor_a)
    response = api.get(f"/api/v1/organizations/{cast.org_a1.pk}/monthly-report/?month=2026-10")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    csv_page = signed_in(cast.monitor_a).get(f"/reports/monthly/{cast.org_a1.pk}/csv/?month=2026-10")
    lines = csv_page.content.decode().splitlines()
    assert lines[0].startswith("day,organization,subject")
    assert "2026-10-31,Acme,,organization,,4,3,75.0" in lines
    assert "2026-10-10,Acme,fileserver,asset,failed,,," in lines


@pytest.mark.django_db
def test_r18_api_compliance_json_csv_and_bad_input(cast):
    history(cast)
    api = api_client(cast.monitor_a)
    response = api.get(f"/api/v1/reports/compliance/?organization={cast.org_a1.pk}&from=2026-10-30&to=2026-10-31")
    assert response.status_code == 200
    data = response.json()
    assert data["from"] == "2026-10-30" and data["to"] == "2026-10-31"
    [org] = data["organizations"]
    assert org["name"] == "Acme" and [d["compliant"] for d in org["days"]] == [3, 3]
    assert org["days"][0]["ratio"] == pytest.approx(0.75)
    assert data["subjects"] == []  # no subject row on those days
    every = api.get("/api/v1/reports/compliance/?from=2026-10-01&to=2026-10-31").json()
    assert {o["name"] for o in every["organizations"]} == {"Acme", "Birch"}  # account A's only
    csv_answer = api.get(f"/api/v1/reports/compliance/?organization={cast.org_a1.pk}&from=2026-10-10&to=2026-10-10"
                         "&format=csv")
    assert csv_answer.status_code == 200 and csv_answer["Content-Type"].startswith("text/csv")
    assert "2026-10-10,Acme,fileserver,asset,failed" in csv_answer.content.decode()
    for query, field in (("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-10-31&to=2026-10-01", "from"),
                         ("organization=abc", "organization"),
                         ("from=0001-01-01", "from"), ("to=9999-12-31", "to")):
        bad = api.get(f"/api/v1/reports/compliance/?{query}")
        assert bad.status_code == 400 and field in bad.json()["errors"], query
    for month in ("October", "2026-13", "26-10", "9999-12", "0001-01"):
        bad = api.get(f"/api/v1/organizations/{cast.org_a1.pk}/monthly-report/?month={month}")
        assert bad.status_code == 400 and "month" in bad.json()["errors"], month


def png(size=(40, 20)):
    out = io.BytesIO()
    Image.new("RGB", size, (21, 112, 239)).save(out, "PNG")
    out.seek(0)
    out.name = "logo.png"
    return out


@pytest.mark.django_db
def test_r18_3_report_settings_api_validates_and_the_logo_brands_the_report(cast):
    api = api_client(cast.superuser_a)
    for body, field in (({"time_zone": "Mars/Olympus"}, "time_zone"), ({"time_zone": "Europe"}, "time_zone"), ({"digest_hour": 24}, "digest_hour"),
                        ({"digest_recipients": ["not-an-address"]}, "digest_recipients"),
                        ({"monthly_recipients": "x@y.example"}, "monthly_recipients"),
                        ({"msp_name": "two\nlines"}, "msp_name")):
        bad = api.patch("/api/v1/settings/reports/", body, format="json")
        assert bad.status_code == 400 and field in bad.json()["errors"], body
    assert ReportSettings.for_account(cast.account_a).time_zone == "UTC"  # nothing changed
    good = api.patch("/api/v1/settings/reports/", {"time_zone": "Europe/Berlin", "digest_enabled": True,
                                                   "digest_hour": 6, "digest_recipients": ["noc@msp-a.example"],
                                                   "msp_name": "Acme IT Services"}, format="json")
    assert good.status_code == 200 and good.json()["digest_hour"] == 6
    assert api_client(cast.monitor_a).patch("/api/v1/settings/reports/", {"digest_hour": 5},
                                            format="json").status_code == 403

    too_big = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * (512 * 1024))
    too_big.name = "big.png"
    assert "file" in api.put("/api/v1/settings/reports/logo/", {"file": too_big}, format="multipart").json()["errors"]
    not_image = io.BytesIO(b"<svg onload=alert(1)>")
    not_image.name = "logo.png"
    refused = api.put("/api/v1/settings/reports/logo/", {"file": not_image}, format="multipart")
    assert refused.status_code == 400 and "file" in refused.json()["errors"]
    accepted = api.put("/api/v1/settings/reports/logo/", {"file": png()}, format="multipart")
    assert accepted.status_code == 200 and accepted.json()["has_logo"] is True
    page = signed_in(cast.monitor_a).get(f"/reports/monthly/{cast.org_a1.pk}/?month=2026-10").content.decode()
    assert 'src="data:image/png;base64,' in page and "Acme IT Services" in page


@pytest.mark.django_db
def test_r18_3_the_customer_contact_is_validated(cast):
    api = api_client(cast.superuser_a)
    bad = api.patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"report_contact": "nobody"}, format="json")
    assert bad.status_code == 400 and "report_contact" in bad.json()["errors"]
    ok = api.patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"report_contact": "cfo@acme.example"}, format="json")
    assert ok.status_code == 200 and ok.json()["report_contact"] == "cfo@acme.example"


@pytest.mark.django_db
def test_r18_3_settings_page_refuses_bad_input_naming_the_field(cast):
    client = signed_in(cast.superuser_a)
    response = client.post("/reports/settings/", {"time_zone": "Nowhere/At_All", "digest_hour": "7",
                                                  "digest_recipients": "", "monthly_recipients": "",
                                                  "msp_name": ""})
    assert response.status_code == 400 and b'data-testid="error-time_zone"' in response.content
    assert ReportSettings.for_account(cast.account_a).time_zone == "UTC"
    saved = client.post("/reports/settings/", {"time_zone": "Europe/Berlin", "digest_hour": "7", "digest_enabled": "on",
                                               "digest_recipients": "noc@msp-a.example", "monthly_recipients": "",
                                               "msp_name": "Acme IT", "logo": png()})
    assert saved.status_code == 302
    row = ReportSettings.for_account(cast.account_a)
    assert (row.time_zone, row.digest_recipients, row.logo_type) == ("Europe/Berlin", ["noc@msp-a.example"], "image/png")


@pytest.mark.django_db
def test_r18_3_beat_writes_each_report_once_on_the_first_of_the_month(cast):
    history(cast)
    assert monthly.due_reports(FIRST_OF_NOVEMBER + timedelta(days=1)) == []  # the 2nd: nothing
    ids = monthly.due_reports(FIRST_OF_NOVEMBER)
    assert len(ids) == 2  # Acme and Birch
    assert monthly.due_reports(FIRST_OF_NOVEMBER + timedelta(hours=5)) == []  # once
    acme = ReportDelivery.objects.get(organization=cast.org_a1)
    assert acme.key == f"monthly:{cast.org_a1.pk}:2026-10"
    assert acme.recipients == ["reports@msp-a.example", "cfo@acme.example"]
    assert ReportDelivery.objects.get(organization=cast.org_a2).recipients == ["reports@msp-a.example"]
    assert acme.subject == "Acme IT Services: backup report for Acme, October 2026"
    assert bytes(acme.attachment).startswith(b"%PDF") and acme.attachment_name == "monthly-report-Acme-2026-10.pdf"
    assert "VSS snapshot failed (2 times, last on 11 October 2026)" in acme.text


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r18_3_the_monthly_reports_are_sent_once_with_a_worker_killed_mid_send(tmp_path, smtp):
    cast = build_cast()
    history(cast)
    smtp.hold()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    lease = 3
    first = Worker(tmp_path / "first.log", DELIVERY_LEASE_SECONDS=lease, **mail).start()
    second = None
    try:
        queue(monthly.due_reports(FIRST_OF_NOVEMBER))
        assert wait_for(lambda: smtp.arrived == 1, timeout=30), (tmp_path / "first.log").read_text()
        first.kill()
        time.sleep(1)
        smtp.release()
        assert ReportDelivery.objects.filter(state="sent").count() == 0
        assert monthly.due_reports(FIRST_OF_NOVEMBER + timedelta(minutes=10)) == []

        second = Worker(tmp_path / "second.log", DELIVERY_LEASE_SECONDS=lease, **mail).start()
        time.sleep(lease + 1)
        sweep()
        assert wait_for(lambda: ReportDelivery.objects.filter(state="sent").count() == 2, timeout=60), \
            (tmp_path / "second.log").read_text()
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == ["Acme IT Services: backup report for Acme, October 2026",
                            "Acme IT Services: backup report for Birch, October 2026"]  # each once
        acme = next(m for m in smtp.messages if "Acme," in m["Subject"])
        assert "cfo@acme.example" in acme["To"]
        [attachment] = list(acme.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content().startswith(b"%PDF")
        assert outbox.due() == []
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()


@pytest.mark.django_db
def test_r18_2_the_organization_page_shows_its_compliance_and_its_monthly_report(cast):
    history(cast)
    yesterday = local_today(cast.account_a, datetime.now(UTC)) - timedelta(days=1)
    OrganizationDay.objects.filter(organization=cast.org_a1).delete()
    make_days(cast.account_a, cast.org_a1, yesterday, [3, 4])  # 7 of 8 over the last 30 days
    page = signed_in(cast.monitor_a).get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    assert 'data-testid="organization-compliance"' in page and "87.5 %" in page
    assert f"/reports/monthly/{cast.org_a1.pk}/" in page and "cfo@acme.example" in page
