"""Settings > Deliveries (R13.5, superusers) and the VSA email actions editor (R13.4, own actions only)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from notifications.extensions import PsaCompanyExtension
from notifications.models import Delivery, PsaCompanyMapping, VsaEmailAction
from notifications.tasks import retry_by_hand
from notifications.vsa_actions import ACTION_RIGHT, parse_recipients
from tenancy import scoping
from tenancy.models import Organization

PAGE = 200


@login_required
def delivery_list(request):
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser sees the deliveries.")
    state = request.GET.get("state", "")
    deliveries = scoping.scope(request.user, Delivery.objects.select_related("event__alert"))
    if state in Delivery.State.values:
        deliveries = deliveries.filter(state=state)  # scoped
    return render(request, "notifications/deliveries.html", {
        "deliveries": deliveries[:PAGE], "state": state, "states": Delivery.State.values,
    })


@login_required
@require_POST
def delivery_retry(request, pk):
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser retries deliveries.")
    delivery = get_object_or_404(scoping.scope(request.user, Delivery.objects.all()), pk=pk)  # scoped
    if retry_by_hand(delivery):
        messages.success(request, f"Delivery {delivery.pk} will be tried again now.")
    else:
        messages.error(request, "Only a failed delivery can be retried.")
    return redirect("deliveries")


class VsaEmailActionForm(forms.Form):
    area = forms.ChoiceField(choices=VsaEmailAction.Area.choices)
    recipients = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="Email addresses separated by commas or spaces.")

    def clean_recipients(self):
        try:
            return parse_recipients(self.cleaned_data["recipients"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


def _own_actions(request):
    if not scoping.can(request.user, ACTION_RIGHT):
        raise PermissionDenied("Admins and superusers keep VSA email actions.")
    # R13.4: only their creator sees them.
    return scoping.scope(request.user, VsaEmailAction.objects.filter(owner=request.user))  # scoped


@login_required
def vsa_actions(request, pk=None):
    """List the user's actions; the form adds one, or edits `pk`."""
    actions = _own_actions(request)
    editing = get_object_or_404(actions, pk=pk) if pk else None
    initial = {"area": editing.area, "recipients": ", ".join(editing.recipients)} if editing else None
    form = VsaEmailActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if editing:
            editing.area, editing.recipients = form.cleaned_data["area"], form.cleaned_data["recipients"]
            editing.save()
            messages.success(request, "Saved the VSA email action.")
        else:
            VsaEmailAction.objects.create(account=scoping.account_of(request.user), owner=request.user,
                                          **form.cleaned_data)
            messages.success(request, "Added a VSA email action.")
        return redirect("vsa-email-actions")
    return render(request, "notifications/vsa_actions.html", {"actions": actions, "form": form, "editing": editing})


@login_required
@require_POST
def vsa_action_delete(request, pk):
    get_object_or_404(_own_actions(request), pk=pk).delete()
    messages.success(request, "Removed the VSA email action.")
    return redirect("vsa-email-actions")


@login_required
def psa_companies(request):
    """R13.3: the organization → PSA company mapping; blank uses the PSA's default company."""
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser maps organizations to PSA companies.")
    organizations = scoping.scope(request.user, Organization.objects.order_by("name"))
    mapped = dict(scoping.scope(request.user, PsaCompanyMapping.objects.values_list("organization_id", "company")))
    errors = {}
    if request.method == "POST":
        wanted = {org.pk: request.POST.get(f"company_{org.pk}", "").strip() for org in organizations}
        errors = {pk: "At most 100 characters." for pk, value in wanted.items() if len(value) > 100}
        if not errors:
            extension = PsaCompanyExtension()
            with transaction.atomic():
                for org in organizations:
                    if wanted[org.pk] != mapped.get(org.pk, ""):
                        extension.write(org, wanted[org.pk])
            messages.success(request, "Saved the PSA companies.")
            return redirect("psa-companies")
        mapped = wanted
    rows = [(org, mapped.get(org.pk, ""), errors.get(org.pk)) for org in organizations]
    return render(request, "notifications/psa_companies.html", {"rows": rows})
