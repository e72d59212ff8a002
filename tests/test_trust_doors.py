"""Smaller doors, each locked: open redirects, the credentials key, HSTS and https, /metrics behind a proxy."""

import pytest

from inventory.models import Job
from tests.conftest import make_appliance

HOSTILE_NEXT = ["//evil.example", "/\\evil.example", "https://evil.example", "http://evil.example/alerts/",
                "\x01//evil.example", "/alerts/\r\nSet-Cookie: x=1", "javascript:alert(1)"]


# --- Open redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_dismissing_a_next_pointing_off_the_portal_goes_to_the_alerts_page(cast, client, target, hx):
    client.force_login(cast.admin_a)
    headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
    response = client.post("/alerts/dismiss/all/", {"next": target}, **headers)
    landed = response.headers["HX-Redirect"] if hx else response.headers["Location"]
    assert landed == "/alerts/"


def test_after_dismissing_a_next_on_the_portal_is_kept(cast, client):
    client.force_login(cast.admin_a)
    response = client.post("/alerts/dismiss/all/", {"next": f"/alerts/?organization={cast.org_a1.pk}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/alerts/?organization={cast.org_a1.pk}"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_cancelling_a_job_a_next_pointing_off_the_portal_goes_to_the_job(cast, client, target):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    job = Job.objects.create(account=cast.account_a, appliance=appliance, external_id="7", state="finished")
    client.force_login(cast.admin_a)
    for headers, header in (({}, "Location"), ({"HTTP_HX_REQUEST": "true"}, "HX-Redirect")):
        response = client.post(f"/jobs/{job.pk}/cancel/", {"next": target}, **headers)
        assert response.headers[header] == f"/jobs/{job.pk}/"
