"""Settings > Integrations (R1.3: superusers): list with "show configuration", add, test, edit, remove."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.connection import test_connection
from integrations.forms import IntegrationForm
from integrations.models import Integration
from integrations.removal import remove_integration
from integrations.serializers import IntegrationSerializer
from integrations.tasks import start_sync
from inventory.models import Appliance
from tenancy import job_views, scoping
from tenancy.validation import parse_id


def _manager(request):
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser manages integrations.")


def _integration(request, pk) -> Integration:
    return get_object_or_404(scoping.scope(request.user, Integration.objects.all()), pk=pk)  # scoped


@login_required
def integration_list(request):
    _manager(request)
    integrations = list(scoping.scope(request.user, Integration.objects.all()))  # scoped
    _attach_sync_warnings(integrations)
    return render(request, "integrations/list.html", {"integrations": integrations, "kinds": Integration.Kind.choices})


def _attach_sync_warnings(integrations):
    """What each appliance's last sync skipped (e.g. a job order R4.7 refuses), in one query."""
    # The option may have been sent as a number or as text ("12"): both name appliance 12.
    by_appliance = {str((i.options or {}).get("appliance")): i for i in integrations
                    if i.kind == Integration.Kind.UNITRENDS}
    warnings = Appliance.objects.filter(pk__in=[parse_id(pk) for pk in by_appliance if parse_id(pk)]).exclude(
        last_sync_warning="").values_list("pk", "account_id", "last_sync_warning")
    for pk, account_id, warning in warnings:
        integration = by_appliance.get(str(pk))
        if integration is not None and integration.account_id == account_id:  # never another account's
            integration.sync_warning = warning


def _save(request, form, instance=None):
    """Validate through the API serializer so both doors apply the same rules."""
    if not form.is_valid():
        return None
    serializer = IntegrationSerializer(instance, data=form.api_data(), partial=instance is not None,
                                       context={"request": request})
    if not serializer.is_valid():
        form.add_api_errors(serializer.errors)
        return None
    if instance is None:
        return serializer.save(account=scoping.account_of(request.user))
    return serializer.save()


@login_required
def integration_add(request):
    _manager(request)
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in Integration.Kind.values:
        raise Http404("Unknown kind of integration.")
    form = IntegrationForm(request.POST or None, kind=kind)
    if request.method == "POST":
        integration = _save(request, form)
        if integration is not None:
            messages.success(request, f"Added {integration}.")
            return redirect("integrations:list")
    return render(request, "integrations/form.html", {"form": form, "kind": kind,
                                                      "kind_label": Integration.Kind(kind).label})


@login_required
def integration_edit(request, pk):
    _manager(request)
    integration = _integration(request, pk)
    form = IntegrationForm(request.POST or None, kind=integration.kind, instance=integration)
    if request.method == "POST" and _save(request, form, integration) is not None:
        messages.success(request, f"Saved {integration.name}.")
        return redirect("integrations:list")
    return render(request, "integrations/form.html", {"form": form, "integration": integration,
                                                      "kind": integration.kind,
                                                      "kind_label": integration.get_kind_display()})


@login_required
@require_POST
def integration_test(request, pk):
    _manager(request)
    integration = _integration(request, pk)
    ok, message = test_connection(integration)
    (messages.success if ok else messages.error)(request, f"{integration.name}: {message}")
    return redirect("integrations:list")


@login_required
@require_POST
def integration_sync(request, pk):
    """Sync now, in a worker: the person watches the job's page until it is done."""
    _manager(request)
    return job_views.show(start_sync(_integration(request, pk), request.user))


@login_required
def integration_delete(request, pk):
    _manager(request)
    integration = _integration(request, pk)
    if request.method == "POST":
        name = str(integration)
        remove_integration(integration)  # R15.2
        messages.success(request, f"Removed {name}.")
        return redirect("integrations:list")
    return render(request, "integrations/confirm_delete.html", {"integration": integration})
