"""An organization's asset-days are found through the assets its history holds
(OrganizationAsset), no longer along an index by organization over every asset-day, which cost
half of what writing them costs. The pairs are filled from the days already written, before that
index goes; SaaS days keep a small index by organization of their own."""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
INSERT INTO reports_organizationasset (organization_id, asset_id)
SELECT DISTINCT sd.organization_id, sd.asset_id FROM reports_subjectday sd
WHERE sd.asset_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM inventory_asset a WHERE a.id = sd.asset_id)
  AND EXISTS (SELECT 1 FROM tenancy_organization o WHERE o.id = sd.organization_id)
ON CONFLICT DO NOTHING
"""


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0010_next_checks_in_a_table_of_their_own'),
        ('reports', '0001_compliance_history_and_report_outbox'),
        ('tenancy', '0007_membership_time_zone'),
    ]

    operations = [
        migrations.CreateModel(
            name='OrganizationAsset',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('asset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                            to='inventory.asset')),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                                   related_name='+', to='tenancy.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'asset'),
                                                        name='organization_asset_once')],
            },
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=False),
        migrations.AddIndex(
            model_name='subjectday',
            index=models.Index(condition=models.Q(('saas_source__isnull', False)), fields=['organization', 'day'],
                               name='subject_day_saas_by_org'),
        ),
        migrations.RemoveIndex(
            model_name='subjectday',
            name='subject_day_by_org',
        ),
    ]
