"""R14.1: beat evaluates what is due in every account every minute through a real worker."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.models import Alert
from alerts.tasks import evaluate_all
from tests.conftest import build_cast, make_appliance
from tests.workers import Worker, flush_broker, wait_for


def test_r14_1_beat_schedules_evaluation_and_the_sweeper_every_minute():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["alerts.tasks.evaluate_all"] == 60.0
    assert schedule["notifications.tasks.sweep"] == 60.0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r14_1_the_beat_task_evaluates_each_account_in_a_worker(tmp_path):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "a", last_contact_at=timezone.now() - timedelta(hours=1))
    make_appliance(cast.account_b, cast.org_b1, "b", last_contact_at=timezone.now() - timedelta(hours=1))
    flush_broker()
    worker = Worker(tmp_path / "worker.log", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").start()
    try:
        evaluate_all.delay()
        assert wait_for(lambda: Alert.objects.filter(state="open").count() == 2, timeout=30), (
            (tmp_path / "worker.log").read_text()
        )
        assert set(Alert.objects.values_list("account", flat=True)) == {cast.account_a.pk, cast.account_b.pk}
    finally:
        worker.stop()
