"""R15.2 and R2.1: why an alert resolved is a sentence on its page, never the stored key."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from alerts.reconciler import resolve
from tests.conftest import make_appliance


@pytest.mark.parametrize(("reason", "sentence"), [
    ("subject_removed", "its subject was removed"),
    ("category_disabled", "its category was switched off"),
    ("superseded", "a newer alert replaced it"),
    ("cleared", "the condition cleared"),
])
def test_r15_2_the_alert_page_says_why_it_resolved_in_words(cast, client, reason, sentence):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    alert = Alert.objects.get(state="open")
    resolve([alert], timezone.now(), reason)
    client.force_login(cast.admin_a)
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert f"({sentence})" in page and f"— {sentence}" in page  # the facts and the history
    assert f"({reason})" not in page and f"— {reason}" not in page
