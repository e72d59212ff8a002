from django.db import migrations, models


def explicit_all_organizations(apps, schema_editor):
    """R1.6: what an empty organization set used to mean ("every organization") becomes explicit."""
    Membership = apps.get_model("tenancy", "Membership")
    Membership.objects.filter(organizations__isnull=True).update(all_organizations=True)


def implicit_all_organizations(apps, schema_editor):
    """Backwards: an "every organization" membership goes back to an empty set."""
    Membership = apps.get_model("tenancy", "Membership")
    for membership in Membership.objects.filter(all_organizations=True):
        membership.organizations.clear()


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0002_two_factor_and_token_expiry'),
    ]

    operations = [
        migrations.AddField(
            model_name='membership',
            name='all_organizations',
            field=models.BooleanField(default=False, help_text='Sees every organization of the account, present and future (R1.6). Off: only `organizations`.'),
        ),
        migrations.AlterField(
            model_name='membership',
            name='organizations',
            field=models.ManyToManyField(blank=True, help_text='The organizations a limited admin or monitor sees. Ignored for superusers.', related_name='scoped_memberships', to='tenancy.organization'),
        ),
        migrations.RunPython(explicit_all_organizations, implicit_all_organizations),
    ]
