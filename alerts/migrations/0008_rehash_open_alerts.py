import hashlib

import orjson
from django.db import migrations


def _hash(title, details, links):
    # The same value as alerts.conditions.alert_content_hash since details are serialized by
    # orjson (compact, keys sorted), written out so that this migration stays as it is.
    def as_json(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()

    return hashlib.sha1(f"{title}\x00{as_json(details)}\x00{as_json(links)}".encode()).hexdigest()


def rehash_open_alerts(apps, schema_editor):
    """The open alerts' hashes in the new serialization: without it, the first cycle after an
    upgrade would find every open alert's details changed and write them all again."""
    Alert = apps.get_model("alerts", "Alert")
    last = 0
    while True:
        batch = list(Alert.objects.filter(state="open", pk__gt=last).order_by("pk").only(
            "pk", "title", "details", "links")[:2000])
        if not batch:
            return
        for alert in batch:
            alert.details_hash = _hash(alert.title, alert.details, alert.links)
        Alert.objects.bulk_update(batch, ["details_hash"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0007_severity_and_storms"),
    ]

    operations = [
        migrations.RunPython(rehash_open_alerts, migrations.RunPython.noop),
    ]
