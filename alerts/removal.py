"""R15.2: a subject leaving service resolves its open alerts first (`subject_removed`).

Connected to `tenancy.removal.subjects_leaving` at start-up. The resolution is an ordinary
one: its events fan out (a PSA ticket closes when the account closes on
resolve, a VSA alarm closes), and because the alert rows survive the removal
(SET_NULL, with the organization's name kept on the alert), the deliveries can
still close what they opened after the subject's rows are gone.

Doors that delete without `tenancy.removal.remove()` (the admin, a shell) are
caught by a `pre_delete` receiver per row; `remove()` itself resolves set-wise
and the receiver stands aside.

Subjects are matched set-based, by foreign key where the alert has one
(organization, appliance, asset) and by the rule's subject otherwise (SaaS
sources `saas:<id>:…`, Azure assets `azure:<id>`, integrations `integration:<id>:…`).
"""

from django.apps import apps
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.utils import timezone

from alerts.models import Alert, AlertState
from alerts.reconciler import resolve
from alerts.rules import spanning
from tenancy import removal

REASON = "subject_removed"
SUBJECTS = ("tenancy.Organization", "inventory.Appliance", "inventory.Asset", "inventory.SaasSource",
            "inventory.AzureAsset")


def _which(queryset) -> Q | None:
    """The open alerts hanging on `queryset`'s rows, and on what Django cascades with them."""
    label = queryset.model._meta.label
    if label == "tenancy.Organization":
        return Q(organization__in=queryset) | Q(appliance__organization__in=queryset) | Q(asset__organization__in=queryset)
    if label == "inventory.Appliance":
        return Q(appliance__in=queryset) | Q(asset__appliance__in=queryset)
    if label == "inventory.Asset":
        return Q(asset__in=queryset)
    ids = list(queryset.values_list("pk", flat=True))
    if label == "inventory.SaasSource":
        return Q(subject__in=[spanning.subject(pk, level) for pk in ids for level in spanning.LEVEL_NAMES])
    if label == "inventory.AzureAsset":
        return Q(subject__in=[f"azure:{pk}" for pk in ids])
    if label == "integrations.Integration":  # R9.2: its own alerts, `integration:<id>:<reason>`
        which = Q(pk__in=[])
        for pk in ids:
            which |= Q(subject__startswith=f"integration:{pk}:")
        return which
    return None


def resolve_leaving(queryset, now) -> list[Alert]:
    """Resolve the open alerts of the subjects leaving (receiver of `tenancy.removal.subjects_leaving`)."""
    which = _which(queryset)
    if which is None:
        return []
    # One account per call in practice; the filter keeps a stray queryset from reaching another.
    accounts = queryset.values("account_id")
    alerts = list(
        Alert.objects.filter(which, account__in=accounts, state=AlertState.OPEN).distinct().only("pk", "account_id")
    )
    return resolve(alerts, now, REASON)


def connect() -> None:
    """Connect to `tenancy.removal`, and catch deletes that bypass it (the admin, a shell)."""
    removal.subjects_leaving.connect(_leaving, dispatch_uid="subject-removed")
    for label in SUBJECTS:
        pre_delete.connect(_deleting, sender=apps.get_model(label), dispatch_uid=f"subject-removed:{label}")


def _leaving(sender, queryset, now, **kwargs):
    resolve_leaving(queryset, now)


def _deleting(sender, instance, **kwargs):
    # Per row, so only for doors that skipped `tenancy.removal.remove()`, which resolves set-wise.
    if not removal.announced():
        resolve_leaving(sender.objects.filter(pk=instance.pk), timezone.now())
