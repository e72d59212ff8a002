from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self):
        from alerts import removal

        removal.connect()  # R15.2: a subject's alerts resolve before it goes
        from alerts import due

        due.connect()  # thresholds, settings, renames and dismissals make assets due
        from inventory.signals import evaluation_wanted

        evaluation_wanted.connect(_evaluate_on_demand, dispatch_uid="alerts-evaluate-on-demand")

        from alerts import storms
        from alerts.events import events_recorded

        events_recorded.connect(storms.on_events, dispatch_uid="alerts-storms")  # R17: storms shrink, incidents release

        from alerts import panels

        panels.register()  # the organization and appliance pages show alerts without importing alerts


def _evaluate_on_demand(sender, account, now=None, **kwargs):
    from alerts.evaluation import evaluate_on_demand

    evaluate_on_demand(account, now)  # R14.1, R15.6
