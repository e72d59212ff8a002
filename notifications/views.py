"""Settings > Deliveries (R13.5, superusers) and the VSA email actions editor (R13.4, own actions only)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from notifications.models import Delivery, VsaEmailAction
from notifications.tasks import retry_by_hand
from notifications.vsa_actions import ACTION_RIGHT, parse_recipients
from tenancy.pages import MANAGE, member_page
from tenancy.validation import parse_id

PAGE = 50


@member_page(require=MANAGE, refusal="Only a superuser sees the deliveries.")
def delivery_list(request, member):
    """R13.5: newest first, a page at a time (`before`: the last id of the page before)."""
    state = request.GET.get("state", "")
    deliveries = member.scope(Delivery).select_related("event__alert")
    if state in Delivery.State.values:
        deliveries = deliveries.filter(state=state)
    if (before := parse_id(request.GET.get("before", ""))) is not None:
        deliveries = deliveries.filter(id__lt=before)
    page = list(deliveries.order_by("-id")[: PAGE + 1])
    return render(request, "notifications/deliveries.html", {
        "deliveries": page[:PAGE], "older": page[PAGE - 1].pk if len(page) > PAGE else None,
        "state": state, "states": Delivery.State.values,
        "failed_count": member.scope(Delivery).filter(state=Delivery.State.FAILED).count(),
    })


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser retries deliveries.")
def delivery_retry(request, member, pk):
    delivery = member.get(Delivery, pk=pk)
    if retry_by_hand(delivery):
        messages.success(request, f"Delivery {delivery.pk} will be tried again now.")
    else:
        messages.error(request, "Only a failed delivery can be retried.")
    return redirect("deliveries")


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser retries deliveries.")
def delivery_retry_failed(request, member):
    """R13.5 for every failed delivery of the account at once, each queued once."""
    count = sum(retry_by_hand(d) for d in member.scope(Delivery).filter(state=Delivery.State.FAILED).order_by("id"))
    messages.success(request, f"{count} failed deliver{'y' if count == 1 else 'ies'} will be tried again now.")
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


# R13.4: admins and superusers keep their own actions; only their creator sees them.
own_actions_page = member_page(require=ACTION_RIGHT, refusal="Admins and superusers keep VSA email actions.")


def _own_actions(member):
    return member.scope(VsaEmailAction).filter(owner=member.user)


@own_actions_page
def vsa_actions(request, member, pk=None):
    """List the user's actions; the form adds one, or edits `pk`."""
    actions = _own_actions(member)
    editing = member.get(actions, pk=pk) if pk else None
    initial = {"area": editing.area, "recipients": ", ".join(editing.recipients)} if editing else None
    form = VsaEmailActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if editing:
            editing.area, editing.recipients = form.cleaned_data["area"], form.cleaned_data["recipients"]
            editing.save()
            messages.success(request, "Saved the VSA email action.")
        else:
            VsaEmailAction(account=member.account, owner=member.user, **form.cleaned_data).save(force_insert=True)
            messages.success(request, "Added a VSA email action.")
        return redirect("vsa-email-actions")
    return render(request, "notifications/vsa_actions.html", {"actions": actions, "form": form, "editing": editing})


@member_page(methods=["POST"], require=ACTION_RIGHT, refusal="Admins and superusers keep VSA email actions.")
def vsa_action_delete(request, member, pk):
    member.get(_own_actions(member), pk=pk).delete()
    messages.success(request, "Removed the VSA email action.")
    return redirect("vsa-email-actions")
