"""Vendor incidents (R17.2): the same vendor-side failure in at least M organizations (the
account's `incident_organizations`, default 5) in one cycle is one account-level alert.

Failures read:
- a Spanning or Datto poll that failed at its last try within the cycle (`SyncHealth.last_error`,
  kept by integrations.saas; a success clears it), sorted into refused credentials, quota
  reached, or not answering / server errors; the organizations are those of the integration's
  mapped sources (Spanning) or clients (Datto);
- Unitrends appliances out of contact (the appliance offline rule's cutoff).

The incident's details name the vendor, the failure and the organizations in words; it also
carries which organizations and alert kinds it explains (hidden from people), which
alerts/storms.py reads to hold those alerts' fan-out while it is open.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.models import AlertSettings
from inventory.models import Appliance, DattoClient, SaasSource, SyncHealth
from tenancy.models import Organization

KIND = "vendor_incident"
CYCLE = timedelta(hours=2)  # the SaaS polls run hourly: a failure older than this is not this cycle's
FAILURES = {
    "invalid_credentials": "refuses the credentials",
    "quota": "answers that the API quota is reached",
    "unreachable": "does not answer or answers with server errors",
    "offline": "out of contact",
}
VENDORS = {
    "spanning": ("Spanning", ("spanning_m365", "spanning_gws", "spanning_salesforce")),
    "datto": ("Datto", ("dbma_backup", "dbma_integration")),
    "unitrends": ("Unitrends appliances", ("appliance_offline", "backup_alarm", "hot_copy_alarm")),
}


def failure_of(health) -> str:
    for reason in ("invalid_credentials", "quota"):
        if reason in (health.open_reasons or []):
            return reason
    return "unreachable"


def failing(account, now) -> dict[tuple[str, str], set[int]]:
    """{(vendor, failure): organization ids} of this cycle's vendor-side failures."""
    hit = defaultdict(set)
    healths = SyncHealth.objects.filter(account=account, checked_at__gt=now - CYCLE, checked_at__lte=now).exclude(
        last_error=""
    )
    spanning, datto = defaultdict(list), defaultdict(list)
    for health in healths:
        key = failure_of(health)
        if health.integration_kind.startswith("spanning"):
            spanning[health.integration_id].append(key)
        elif health.integration_kind == "datto":
            datto[health.integration_id].append(key)
    for model, by_integration, vendor in ((SaasSource, spanning, "spanning"), (DattoClient, datto, "datto")):
        if not by_integration:
            continue
        rows = model.objects.filter(account=account, integration_id__in=list(by_integration),
                                    organization__isnull=False).values_list("integration_id", "organization_id")
        for integration_id, organization_id in rows:
            for failure in by_integration[integration_id]:
                hit[(vendor, failure)].add(organization_id)
    cutoff = now - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    offline = Appliance.objects.filter(account=account).filter(
        Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True)
    ).values_list("organization_id", flat=True).distinct()
    hit[("unitrends", "offline")].update(offline)
    return hit


def conditions(account, now):
    least = max(2, AlertSettings.for_account(account).incident_organizations)
    wide = {key: ids for key, ids in failing(account, now).items() if len(ids) >= least}
    if not wide:
        return
    names = dict(Organization.objects.filter(pk__in={i for ids in wide.values() for i in ids}).values_list("pk", "name"))
    for (vendor, failure), organization_ids in sorted(wide.items()):
        label, explains = VENDORS[vendor]
        organizations = sorted(names.get(i, "") for i in organization_ids)
        yield Condition(
            kind=KIND,
            subject=f"{vendor}:{failure}",
            title=f"{label} {FAILURES[failure]} for {len(organizations)} organizations",
            organization_id=None,
            group_label=KINDS[KIND],
            details={
                "vendor": label,
                "failure": FAILURES[failure],
                "organizations": organizations,
                "held_alerts": ", ".join(KINDS[k] for k in explains) + " of these organizations, until it ends",
                "organization_ids": sorted(organization_ids),
                "explains": list(explains),
            },
        )
