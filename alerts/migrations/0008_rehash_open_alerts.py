import hashlib
import importlib

import orjson
from django.db import migrations

each_open_alert_hashed = importlib.import_module("alerts.migrations.0005_alert_details_hash").each_open_alert_hashed


def _hash(title, details, links):
    # The same value as alerts.conditions.alert_content_hash since details are serialized by
    # orjson (compact, keys sorted), written out so that this migration stays as it is.
    def as_json(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()

    return hashlib.sha1(f"{title}\x00{as_json(details)}\x00{as_json(links)}".encode()).hexdigest()


def rehash_open_alerts(apps, schema_editor):
    """The open alerts' hashes in the new serialization: without it, the first cycle after an
    upgrade would find every open alert's details changed and write them all again."""
    each_open_alert_hashed(apps, _hash)


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0007_severity_and_storms"),
    ]

    operations = [
        migrations.RunPython(rehash_open_alerts, migrations.RunPython.noop),
    ]
