"""The next moment of every subject moves out of the wide subject tables into one narrow table
(inventory.NextCheck), with the moments as they were; triggers keep a row per subject."""

import django.db.models.deletion
from django.db import migrations, models

import inventory.due

from inventory import next_check_triggers


def copy_moments(apps, schema_editor):
    """Every subject keeps the moment it had."""
    for kind, table in next_check_triggers.SUBJECT_TABLES.items():
        schema_editor.execute(
            "INSERT INTO inventory_nextcheck (kind, subject_id, account_id, next_check_at) "  # noqa: S608
            f"SELECT '{kind}', id, account_id, next_check_at FROM {table}"
        )


def add_triggers(apps, schema_editor):
    """From now on the database adds and drops the rows (after the tables' last rebuild)."""
    next_check_triggers.install(schema_editor, schema_editor.connection.vendor)


def drop_triggers(apps, schema_editor):
    next_check_triggers.uninstall(schema_editor, schema_editor.connection.vendor)


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0009_storage_samples_and_due_subjects'),
        ('tenancy', '0007_membership_time_zone'),
    ]

    operations = [
        migrations.CreateModel(
            name='NextCheck',
            fields=[
                ('pk', models.CompositePrimaryKey('kind', 'subject_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('asset', 'Asset'), ('appliance', 'Appliance'), ('saas', 'SaaS source'), ('azure', 'Azure asset')], max_length=9)),
                ('subject_id', models.BigIntegerField()),
                ('next_check_at', models.DateTimeField(default=inventory.due.changed_moment)),
            ],
        ),
        migrations.AddField(
            model_name='nextcheck',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.account'),
        ),
        migrations.RunPython(copy_moments, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='nextcheck',
            index=models.Index(fields=['account', 'kind', 'next_check_at'], name='next_check_due_by_account'),
        ),
        migrations.RemoveIndex(
            model_name='appliance',
            name='appliance_due_by_account',
        ),
        migrations.RemoveIndex(
            model_name='asset',
            name='asset_due_by_account',
        ),
        migrations.RemoveIndex(
            model_name='azureasset',
            name='azure_asset_due_by_account',
        ),
        migrations.RemoveIndex(
            model_name='saassource',
            name='saas_source_due_by_account',
        ),
        migrations.RemoveField(
            model_name='appliance',
            name='next_check_at',
        ),
        migrations.RemoveField(
            model_name='asset',
            name='next_check_at',
        ),
        migrations.RemoveField(
            model_name='azureasset',
            name='next_check_at',
        ),
        migrations.RemoveField(
            model_name='saassource',
            name='next_check_at',
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
