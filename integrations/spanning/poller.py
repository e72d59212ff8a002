"""The Spanning poller (M365 tenants, Google domains, Salesforce orgs): daily statuses, the new
days and the last two again (R8.2, R15.4), read first and written in one transaction."""

from datetime import timedelta

from django.db import transaction

from integrations import kinds
from integrations.saas import with_health
from inventory import due
from inventory.models import SaasDailyStatus, SaasSource
from tenancy.validation import clean_name

SOURCE_KINDS = {"spanning_m365": "m365", "spanning_gws": "gws", "spanning_salesforce": "salesforce"}
FIRST_POLL_DAYS = 7  # R8.3 needs a week of history
REREAD_DAYS = 2  # R15.4: Spanning may publish a failure for a day already stored as successful


def client_for(integration):
    kind = kinds.get(integration.kind)
    creds = integration.credentials or {}
    user, secret = (creds.get(name, "") for name in kind.credential_fields)
    return kind.client_class(user, secret, region=(integration.options or {}).get("region", "us"),
                             base_url=integration.base_url)


def _store_days(source, days) -> int:
    """Upsert the days read: a day re-read with another status is updated (R15.4). Answers
    how many days are new or changed."""
    if not days:
        return 0
    known = {
        d: (status, services) for d, status, services in
        source.daily_statuses.filter(date__in=[d.date for d in days]).values_list("date", "status", "services")
    }
    changed = [d for d in days if known.get(d.date) != (d.status, d.services)]
    rows = [
        SaasDailyStatus(account_id=source.account_id, source=source, date=d.date, status=d.status, services=d.services)
        for d in changed
    ]
    SaasDailyStatus.objects.bulk_create(rows, update_conflicts=True, unique_fields=["source", "date"],
                                        update_fields=["status", "services"])
    if rows:
        due.sources_changed([source.pk])  # evaluation by due time
    return len(rows)


def _source(integration, kind, external_id, name, figures) -> SaasSource:
    name = clean_name(name, 200) or str(external_id)[:200]  # a vendor's name, one line
    source, created = SaasSource.objects.get_or_create(
        account=integration.account, kind=kind, external_id=external_id,
        defaults={"name": name, "integration_id": integration.pk, **figures},
    )
    if not created:
        for key, value in {"name": name, "integration_id": integration.pk, **figures}.items():
            setattr(source, key, value)
        source.save()
    return source


def _new_days_range(source, today):
    """The days to read: from the day after the newest stored status (R8.2: one per day), and
    always the last two days again, since a day's status can change after it was stored (R15.4)."""
    newest = source.daily_statuses.order_by("-date").values_list("date", flat=True).first() if source else None
    start = newest + timedelta(days=1) if newest else today - timedelta(days=FIRST_POLL_DAYS - 1)
    start = min(start, today - timedelta(days=REREAD_DAYS - 1))
    return max(start, today - timedelta(days=FIRST_POLL_DAYS - 1)), today


def _existing(integration, kind, external_id):
    return SaasSource.objects.filter(account=integration.account, kind=kind, external_id=external_id).first()


@with_health
def poll(integration, now):
    client, kind, today = client_for(integration), SOURCE_KINDS[integration.kind], now.date()
    creds = integration.credentials or {}
    if kind == "m365":
        tenant = client.tenant()
        external_id = creds["admin_email"].rpartition("@")[2].lower() or creds["admin_email"]
        figures = {k: _count(tenant.get(k)) for k in ("licenses", "users", "assigned")}
        figures["license_status"] = str(tenant.get("status") or "")[:32]
        batches = [(external_id, external_id, figures, None)]
    elif kind == "gws":
        users = client.users()
        licensed = sum(1 for u in users if u.get("licensed") is True and u.get("archived") is not True)
        figures = {"users": len(users), "assigned": licensed}
        batches = [(creds["domain"].lower(), creds["domain"].lower(), figures, None)]
    else:
        batches = [(o["orgId"], o["name"], {}, o["orgId"]) for o in client.orgs()]
    fetched = []
    for external_id, name, figures, org_id in batches:
        start, end = _new_days_range(_existing(integration, kind, external_id), today)
        if start > end:
            days = []
        elif org_id is None:
            days = client.daily_statuses(start, end)
        else:
            days = client.daily_statuses(org_id, start, end)
        fetched.append((external_id, name, figures, [d for d in days if start <= d.date <= end]))
    stored = 0
    with transaction.atomic():
        for external_id, name, figures, days in fetched:
            source = _source(integration, kind, external_id, name, {**figures, "app_url": client.app_url})
            stored += _store_days(source, days)
    return f"{len(fetched)} source(s), {stored} new or changed daily status(es)"


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
