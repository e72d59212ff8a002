"""Datto Backup for Microsoft Azure: integration alerts (R9.2) and per-asset backup alerts (R9.3, R9.4).

Integration alerts come from `SyncHealth`, which the Datto poller keeps: one alert
per integration and reason (`invalid_credentials` for 401/403, `quota` for 429)
until a sync succeeds. They carry `details["integration_alert"] = True` and have
kind `dbma_integration`, so the PSA channel opens no ticket for them (R9.2, R13.3).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from alerts.categories import KINDS
from alerts.conditions import Condition
from inventory.models import AzureAsset, SyncHealth
from thresholds.effective import effective_thresholds

DEFAULT_AZURE_HOURS = 24  # R9.3 / R4.1
DATTO_PORTAL = "https://portal.dattobackup.com"
REASONS = {
    "invalid_credentials": "the Datto credentials are invalid",
    "quota": "the Datto API quota is reached",
}


def azure_hours(thresholds, organization_id) -> tuple[int, str]:
    """R9.3: the effective Azure threshold (custom for the organization, else global, else 24 h) and its origin."""
    effective = thresholds.for_organization(organization_id)
    if effective is None:
        return DEFAULT_AZURE_HOURS, "default"
    return effective.azure_hours, effective.origin


def conditions(account, now, azure_assets=None):
    """`azure_assets` (ids): only those assets' backup alerts (evaluation by due time); None: all.
    The integration alerts are always read whole (one row per integration)."""
    yield from integration_conditions(account)
    yield from backup_conditions(account, now, azure_assets)


def integration_conditions(account):
    portal = settings.PORTAL_URL
    for health in SyncHealth.objects.filter(account=account, integration_kind="datto"):
        for reason in health.open_reasons:
            if reason not in REASONS:
                continue
            yield Condition(
                kind="dbma_integration",
                subject=f"integration:{health.integration_id}:{reason}",
                title=f"Datto Portal integration {health.integration_name}: {REASONS[reason]}",
                organization_id=None,
                group_label=KINDS["dbma_integration"],
                details={
                    "reason": reason,
                    "integration_alert": True,  # R9.2: never a PSA ticket
                    "integration": health.integration_name,
                    "integration_id": health.integration_id,
                    "error": health.last_error,
                    "checked_at": health.checked_at.isoformat() if health.checked_at else None,
                },
                links={
                    "integration": portal + reverse("integrations:edit", args=[health.integration_id]),
                    "module": DATTO_PORTAL,
                },
            )


def backup_conditions(account, now, azure_assets=None):
    thresholds = effective_thresholds(account)
    in_force = [t.azure_hours for t in thresholds.custom.values()]
    in_force.append(thresholds.global_.azure_hours if thresholds.global_ else DEFAULT_AZURE_HOURS)
    shortest = min(in_force)
    # Only assets late for the shortest threshold in force can alarm: the database leaves the rest out.
    assets = AzureAsset.objects.filter(account=account, organization__isnull=False).filter(
        Q(last_successful_backup_at__isnull=True) | Q(last_successful_backup_at__lt=now - timedelta(hours=shortest))
    ).select_related("organization")
    if azure_assets is not None:
        assets = assets.filter(pk__in=azure_assets)
    for asset in assets:  # R9.3: only assets whose client is mapped
        limit, origin = azure_hours(thresholds, asset.organization_id)
        last = asset.last_successful_backup_at
        if last is not None and last >= now - timedelta(hours=limit):
            continue
        yield _backup_condition(asset, limit, origin)


def _backup_condition(asset, limit, origin) -> Condition:
    org = asset.organization
    last = asset.last_successful_backup_at
    portal = settings.PORTAL_URL
    return Condition(
        kind="dbma_backup",
        subject=f"azure:{asset.pk}",
        title=f"Azure asset {asset.name}: no successful backup in the last {limit} hours",
        organization_id=org.pk,
        # R9.4 / R11.1: grouped by DBMA module and organization.
        group_key=f"{org.pk}:dbma_backup:{asset.module}",
        group_label=f"{org.name} — {asset.module}",
        details={
            "asset": asset.name,
            "client": asset.client_name,
            "module": asset.module,
            "resource_group": asset.resource_group,
            "threshold_hours": limit,
            "threshold": origin,
            "last_successful_backup_at": last.isoformat() if last else None,
            "last_backup_status": asset.last_backup_status,
            "last_backup_at": asset.last_backup_at.isoformat() if asset.last_backup_at else None,
        },
        links={
            "organization": portal + reverse("dashboard:alerts") + f"?organization={org.pk}",
            "module": DATTO_PORTAL,
            "asset": portal + reverse("protect:azure") + f"#azure-asset-{asset.pk}",
        },
    )
