"""While `make run` is up, the demo appliances check in, except the one that is offline."""

from celery import shared_task
from django.utils import timezone

from demo.builder import OFFLINE
from inventory import due
from inventory.models import Appliance


@shared_task
def heartbeat():
    due.contact_refreshed(Appliance.objects.filter(account__is_demo=True).exclude(external_id__in=OFFLINE))
    return (
        Appliance.objects.filter(account__is_demo=True)
        .exclude(external_id__in=OFFLINE)
        .update(last_contact_at=timezone.now(), status=Appliance.Status.ONLINE)
    )
