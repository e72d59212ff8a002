"""Settings > Integrations (R1.3: superusers): list with "show configuration", add, test, edit, remove."""

from django.contrib import messages
from django.shortcuts import redirect, render

from integrations.connection import test_connection
from integrations.forms import IntegrationForm
from integrations.models import Integration
from integrations.removal import remove_integration
from integrations.serializers import IntegrationSerializer
from integrations.tasks import start_sync
from inventory.models import Appliance
from tenancy import job_views
from tenancy.pages import MANAGE, NotFound, member_page
from tenancy.validation import parse_id

REFUSAL = "Only a superuser manages integrations."
# R1.3: every page here is the superuser's, refused before any lookup.
superuser_page = member_page(require=MANAGE, refusal=REFUSAL)


@superuser_page
def integration_list(request, member):
    integrations = list(member.scope(Integration))
    _attach_sync_warnings(member, integrations)
    return render(request, "integrations/list.html", {"integrations": integrations, "kinds": Integration.Kind.choices})


def _attach_sync_warnings(member, integrations):
    """What each appliance's last sync skipped (e.g. a job order R4.7 refuses), in one query."""
    # The option may have been sent as a number or as text ("12"): both name appliance 12.
    by_appliance = {str((i.options or {}).get("appliance")): i for i in integrations
                    if i.kind == Integration.Kind.UNITRENDS}
    warnings = member.scope(Appliance).filter(pk__in=[parse_id(pk) for pk in by_appliance if parse_id(pk)]).exclude(
        last_sync_warning="").values_list("pk", "account_id", "last_sync_warning")
    for pk, account_id, warning in warnings:
        integration = by_appliance.get(str(pk))
        if integration is not None and integration.account_id == account_id:  # never another account's
            integration.sync_warning = warning


def _save(request, member, form, instance=None):
    """Validate through the API serializer so both doors apply the same rules."""
    if not form.is_valid():
        return None
    serializer = IntegrationSerializer(instance, data=form.api_data(), partial=instance is not None,
                                       context={"request": request})
    if not serializer.is_valid():
        form.add_api_errors(serializer.errors)
        return None
    if instance is None:
        return serializer.save(account=member.account)
    return serializer.save()


@superuser_page
def integration_add(request, member):
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in Integration.Kind.values:
        raise NotFound("Unknown kind of integration.")
    form = IntegrationForm(request.POST or None, kind=kind)
    if request.method == "POST":
        integration = _save(request, member, form)
        if integration is not None:
            messages.success(request, f"Added {integration}.")
            return redirect("integrations:list")
    return render(request, "integrations/form.html", {"form": form, "kind": kind,
                                                      "kind_label": Integration.Kind(kind).label})


@superuser_page
def integration_edit(request, member, pk):
    integration = member.get(Integration, pk=pk)
    form = IntegrationForm(request.POST or None, kind=integration.kind, instance=integration)
    if request.method == "POST" and _save(request, member, form, integration) is not None:
        messages.success(request, f"Saved {integration.name}.")
        return redirect("integrations:list")
    return render(request, "integrations/form.html", {"form": form, "integration": integration,
                                                      "kind": integration.kind,
                                                      "kind_label": integration.get_kind_display()})


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def integration_test(request, member, pk):
    integration = member.get(Integration, pk=pk)
    ok, message = test_connection(integration)
    (messages.success if ok else messages.error)(request, f"{integration.name}: {message}")
    return redirect("integrations:list")


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def integration_sync(request, member, pk):
    """Sync now, in a worker: the person watches the job's page until it is done."""
    return job_views.show(start_sync(member.get(Integration, pk=pk), member.user))


@superuser_page
def integration_delete(request, member, pk):
    integration = member.get(Integration, pk=pk)
    if request.method == "POST":
        name = str(integration)
        remove_integration(integration)  # R15.2
        messages.success(request, f"Removed {name}.")
        return redirect("integrations:list")
    return render(request, "integrations/confirm_delete.html", {"integration": integration})
