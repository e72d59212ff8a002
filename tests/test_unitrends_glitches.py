"""R15.3 for appliances: a job-order list that suddenly comes back empty does not strip every
asset of its schedules (which would silence every backup alarm of the appliance) until a
poll at least an hour later agrees."""

from datetime import timedelta

from alerts.evaluation import evaluate
from fakes.unitrends import unitrends_integration
from inventory.models import BackupSchedule
from tests.conftest import NOW
from tests.test_backup_alarm import open_alarms, set_global
from tests.test_several_schedules import appliance_with_two_job_orders, run_sync  # noqa: F401


def schedule_count():
    return BackupSchedule.objects.count()


def test_r15_3_an_empty_job_order_list_keeps_the_schedules_and_warns_on_the_integration(
        cast, appliance_with_two_job_orders):  # noqa: F811
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    set_global(cast.account_a)
    evaluate(cast.account_a, NOW)
    assert schedule_count() == 3 and len(open_alarms(cast.account_a)) == 1

    appliance_with_two_job_orders.appliance.joborders.clear()  # the appliance answers no job orders
    run_sync(integration, NOW + timedelta(minutes=5))
    assert schedule_count() == 3  # kept: one empty answer is suspicious, not the truth
    integration.refresh_from_db()
    assert "job orders" in " ".join(h["detail"] for h in integration.suspicious_polls.values())
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert len(open_alarms(cast.account_a)) == 1  # the missed backups still alarm

    run_sync(integration, NOW + timedelta(minutes=30))
    assert schedule_count() == 3  # still within the hour

    run_sync(integration, NOW + timedelta(minutes=70))  # an hour after the first empty answer, it agrees
    assert schedule_count() == 0
    integration.refresh_from_db()
    assert integration.suspicious_polls == {}


def test_r15_3_job_orders_that_come_back_clear_the_warning(cast, appliance_with_two_job_orders):  # noqa: F811
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    orders = list(appliance_with_two_job_orders.appliance.joborders)
    appliance_with_two_job_orders.appliance.joborders.clear()
    run_sync(integration, NOW + timedelta(minutes=5))
    integration.refresh_from_db()
    assert integration.suspicious_polls

    appliance_with_two_job_orders.appliance.joborders.extend(orders)
    run_sync(integration, NOW + timedelta(minutes=75))
    integration.refresh_from_db()
    assert integration.suspicious_polls == {}
    assert schedule_count() == 3
