"""Datto client → organization mapping (R9.1).

A client seen for the first time maps to the organization of the same name
(case-insensitive) or to a new one of that name; afterwards the mapping is a
person's choice and polls never change it. Its Azure assets follow the client.
"""

from django.db import IntegrityError, transaction

from inventory.models import AzureAsset, DattoClient
from tenancy.models import Organization
from tenancy.validation import clean_name


def organization_named(account, name: str) -> Organization:
    """The account's organization called `name` (any case), created if there is none."""
    name = name.strip()[:200]
    found = Organization.objects.filter(account=account, name__iexact=name).order_by("pk").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Organization.objects.create(account=account, name=name)
    except IntegrityError:  # created meanwhile by another poll
        return Organization.objects.filter(account=account, name__iexact=name).order_by("pk").first()


def client_for(account, integration_id, external_id: str, name: str) -> DattoClient:
    """The stored client; a new one is auto-mapped (R9.1). A known client keeps its mapping."""
    name = clean_name(name, 200) or external_id[:200]
    client = DattoClient.objects.filter(
        account=account, integration_id=integration_id, external_id=external_id
    ).first()
    if client is None:
        client = DattoClient.objects.create(
            account=account, integration_id=integration_id, external_id=external_id, name=name,
            organization=organization_named(account, name),
        )
    elif client.name != name:
        client.name = name
        client.save(update_fields=["name"])
    return client


def remap(client: DattoClient, organization) -> None:
    """A person's mapping: the client and its Azure assets move together (None = unmapped)."""
    with transaction.atomic():
        client.organization = organization
        client.save(update_fields=["organization"])
        assets = AzureAsset.objects.filter(
            account=client.account_id, integration_id=client.integration_id, client_external_id=client.external_id
        )
        for asset in assets:  # saved one by one so the audit log sees each mapping change
            asset.organization = organization
            asset.save(update_fields=["organization"])
