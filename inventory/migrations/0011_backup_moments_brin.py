"""Block-range indexes on when backups started and finished (PostgreSQL only): backups are stored
about in the order they happen, so a summary of each range of pages lets the compliance history
(reports/compliance.py) read one day's backups without reading every backup kept. They cost
little to keep, and nothing on the embedded SQLite default, which keeps no compliance history."""

from django.db import migrations

INDEXES = {"backup_started_brin": "started_at", "backup_finished_brin": "finished_at"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON inventory_backup USING brin ({column})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0010_next_checks_in_a_table_of_their_own'),
    ]

    operations = [migrations.RunPython(create, drop)]
