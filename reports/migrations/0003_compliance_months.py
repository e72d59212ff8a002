"""An asset's or SaaS source's compliance days are kept a month to a row, one letter a day
(SubjectMonth), instead of a row a day: a month of 100,000 assets is written as 100,000 rows,
not 3 million. The days already written are moved into months, in the organization each was
written for, before the table of days goes; so does the table of the organizations whose
history held an asset (a month row names its organization)."""

import django.db.models.deletion
from django.db import migrations, models

# Each (subject, organization, month) of the days: the month's letters, '-' where no day was written.
CONVERT = """
WITH months AS (
    SELECT account_id, organization_id, asset_id, saas_source_id, date_trunc('month', day)::date AS month,
           jsonb_object_agg(extract(day FROM day)::int, CASE state WHEN 'good' THEN 'g' WHEN 'warning' THEN 'w'
                            WHEN 'failed' THEN 'f' WHEN 'missed' THEN 'm' ELSE 'n' END) AS letters
    FROM reports_subjectday
    GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO reports_subjectmonth (account_id, organization_id, asset_id, saas_source_id, month, states)
SELECT account_id, organization_id, asset_id, saas_source_id, month,
       (SELECT string_agg(coalesce(letters ->> day::text, '-'), '' ORDER BY day)
        FROM generate_series(1, (month + interval '1 month')::date - month) AS day)
FROM months
"""


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0010_next_checks_in_a_table_of_their_own'),
        ('reports', '0002_organization_assets'),
        ('tenancy', '0007_membership_time_zone'),
    ]

    operations = [
        migrations.CreateModel(
            name='SubjectMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text="The month's first day.")),
                ('states', models.CharField(
                    help_text='One letter a day from the 1st: g, w, f, m, n (none) or - (not known).', max_length=31)),
                ('account', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                              related_name='+', to='tenancy.account')),
                ('asset', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                            to='inventory.asset')),
                ('organization', models.ForeignKey(db_constraint=False, db_index=False,
                                                   on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                                   to='tenancy.organization')),
                ('saas_source', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                                  on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                                  to='inventory.saassource')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', 'month'], name='subject_month_by_org')],
                'constraints': [
                    models.UniqueConstraint(condition=models.Q(('asset__isnull', False)),
                                            fields=('asset', 'month', 'organization'), name='subject_month_asset'),
                    models.UniqueConstraint(condition=models.Q(('saas_source__isnull', False)),
                                            fields=('saas_source', 'month', 'organization'), name='subject_month_saas'),
                    models.CheckConstraint(
                        condition=models.Q(models.Q(('asset__isnull', False), ('saas_source__isnull', True)),
                                           models.Q(('asset__isnull', True), ('saas_source__isnull', False)),
                                           _connector='OR'),
                        name='subject_month_one_subject'),
                ],
            },
        ),
        migrations.RunSQL(CONVERT, migrations.RunSQL.noop),
        migrations.DeleteModel(name='OrganizationAsset'),
        migrations.DeleteModel(name='SubjectDay'),
    ]
