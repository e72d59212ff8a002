import hashlib
import json

from django.db import migrations, models


def _hash(title, details, links):
    # The same value as alerts.conditions.alert_content_hash, written out so that this
    # migration stays as it is whatever that module becomes.
    def as_json(value):
        return json.dumps(value, sort_keys=True)

    return hashlib.sha1(f"{title}\x00{as_json(details)}\x00{as_json(links)}".encode()).hexdigest()


def hash_open_alerts(apps, schema_editor):
    """Open alerts are the ones a cycle compares: give each its hash, in batches."""
    each_open_alert_hashed(apps, _hash)


def each_open_alert_hashed(apps, content_hash):
    """Every open alert's `details_hash` set to `content_hash(title, details, links)`, in batches
    (alerts/0008 hashes them again this way)."""
    Alert = apps.get_model("alerts", "Alert")
    last = 0
    while True:
        batch = list(Alert.objects.filter(state="open", pk__gt=last).order_by("pk").only(
            "pk", "title", "details", "links")[:2000])
        if not batch:
            return
        for alert in batch:
            alert.details_hash = content_hash(alert.title, alert.details, alert.links)
        Alert.objects.bulk_update(batch, ["details_hash"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0004_alerts_follow_their_subject"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="details_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(hash_open_alerts, migrations.RunPython.noop),
    ]
