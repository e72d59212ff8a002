"""Removing an integration (R15.2), the one function the API and the dashboard call.

What it brought into inventory leaves with it, its open alerts resolved first
(`subject_removed`, fanned out): a Spanning integration's sources, a Datto
integration's Azure assets and clients, and the integration's own alerts. A
Unitrends integration's appliance is retired instead of deleted: its history
stays, shown as retired, and it no longer raises offline or backup alarms.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration
from integrations.saas import saas_kinds
from inventory import lifecycle
from inventory.models import Appliance, AzureAsset, DattoClient, SaasSource, SyncHealth
from tenancy import removal
from tenancy.validation import parse_id


def remove_integration(integration: Integration, now=None) -> None:
    now = now or timezone.now()
    mine = {"account_id": integration.account_id, "integration_id": integration.pk}
    with transaction.atomic():
        if integration.kind == Integration.Kind.UNITRENDS:
            lifecycle.retire_appliances(_appliances_of(integration), now)
        elif integration.kind in saas_kinds():
            removal.remove(SaasSource.objects.filter(**mine), now)
            removal.remove(AzureAsset.objects.filter(**mine), now)
            DattoClient.objects.filter(**mine).delete()
            SyncHealth.objects.filter(**mine).delete()
        removal.remove(Integration.objects.filter(pk=integration.pk), now)  # its own alerts (R9.2)


def _appliances_of(integration):
    """The appliance its syncs wrote (option `appliance`, or the external id the first sync gave it)."""
    linked = parse_id(str((integration.options or {}).get("appliance")))
    which = Q(external_id=f"unitrends-{integration.pk}")
    if linked is not None:
        which |= Q(pk=linked)
    return Appliance.objects.filter(which, account_id=integration.account_id)
