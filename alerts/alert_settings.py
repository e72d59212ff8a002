"""Saving the account's alert settings, shared by the dashboard and the API.

Switching a category or purging off withdraws the open alerts at once by
evaluating the account now, rather than at the next scheduled run (R2.1, R10.2).
"""

from alerts.categories import CATEGORIES
from alerts.evaluation import evaluate_on_demand
from alerts.models import AlertSettings
from alerts.serializers import AlertSettingsSerializer


def save_alert_settings(account, data, now) -> tuple[AlertSettings, dict]:
    """Validate and save; answers (settings, errors). Nothing changes when there are errors."""
    current = AlertSettings.for_account(account)
    before = (dict(current.categories), current.purging_alerts)
    serializer = AlertSettingsSerializer(current, data=data, partial=True)
    if not serializer.is_valid():
        return current, {field: [str(m) for m in _messages(msgs)] for field, msgs in serializer.errors.items()}
    saved = serializer.save()
    switched_off = any(before[0].get(c, True) and not saved.category_enabled(c) for c in CATEGORIES)
    if switched_off or (before[1] and not saved.purging_alerts):
        evaluate_on_demand(account, now)  # R2.1: withdraw now (resolved, reason category_disabled)
    return saved, {}


def _messages(value):
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return value if isinstance(value, list) else [value]
