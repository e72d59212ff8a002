"""Settings > Webhooks (issue 18): superusers add, edit, test and remove signed webhooks."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse

from alerts.categories import KINDS
from integrations.crypto import mask
from integrations.url_guard import UnsafeURL, check
from notifications.channels import webhook
from notifications.models import WebhookEndpoint
from notifications.webhook_api import send_test
from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page

EVENT_CHOICES = [("raised", "Raised"), ("resolved", "Resolved"), ("dismissed", "Dismissed")]
SEVERITY_CHOICES = [("critical", "Critical"), ("warning", "Warning"), ("info", "Information")]


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False, min_length=16, max_length=200, widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current secret (or, for a new webhook, to have one made for you).",
    )
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="None ticked sends every event.")
    kinds = forms.MultipleChoiceField(choices=list(KINDS.items()), required=False,
                                      widget=forms.CheckboxSelectMultiple, help_text="None ticked sends every kind.")
    severities = forms.MultipleChoiceField(choices=SEVERITY_CHOICES, required=False,
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text="None ticked sends every severity.")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "kinds", "severities", "organizations", "enabled"]
        widgets = {"organizations": forms.CheckboxSelectMultiple}
        labels = {"url": "URL", "organizations": "Organizations"}
        help_texts = {"organizations": "None ticked sends every organization's alerts, new ones included."}

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizations"].queryset = member.scope(Organization).order_by("name")

    def clean_url(self):
        try:
            return check(self.cleaned_data["url"])  # the outbound guard on save (issue 7)
        except UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_secret(self):
        value = self.cleaned_data["secret"]
        if any(c.isspace() for c in value):
            raise forms.ValidationError("A secret holds no spaces.")
        return value


REFUSAL = "Only a superuser manages webhooks."


def _endpoints(member):
    return member.scope(WebhookEndpoint).prefetch_related("organizations")


@member_page(require=MANAGE, refusal=REFUSAL)
def webhooks(request, member, pk=None):
    """The list; the form adds a webhook, or edits `pk`. A new secret is shown on this answer only."""
    endpoints = _endpoints(member)
    editing = member.get(endpoints, pk=pk) if pk else None
    form = WebhookForm(request.POST or None, instance=editing, member=member)
    created_secret = ""
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        secret = form.cleaned_data["secret"]
        if editing is None:
            endpoint.account = member.account
            created_secret = secret or webhook.new_secret()
            secret = created_secret
        if secret:
            endpoint.secret = secret
        if endpoint.enabled:
            endpoint.disabled_reason = ""
        with transaction.atomic():
            endpoint.save()
            form.save_m2m()
        if editing:
            messages.success(request, f"Saved the webhook {endpoint.name}.")
            return redirect("webhooks")
        messages.success(request, f"Added the webhook {endpoint.name}.")
        form = WebhookForm(member=member)
    return render(request, "notifications/webhooks.html", {
        "endpoints": [(e, mask(e.secret)) for e in endpoints], "form": form, "editing": editing,
        "created_secret": created_secret,
    })


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def webhook_delete(request, member, pk):
    endpoint = member.get(_endpoints(member), pk=pk)
    endpoint.delete()
    messages.success(request, f"Removed the webhook {endpoint.name}.")
    return member.go_next(reverse("webhooks"))


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def webhook_test(request, member, pk):
    endpoint = member.get(_endpoints(member), pk=pk)
    result = send_test(endpoint)
    (messages.success if result["ok"] else messages.error)(request, f"Test event to {endpoint.name}: {result['detail']}")
    return redirect("webhooks")
