"""Settings > Webhooks (issue 18): superusers add, edit, test and remove signed webhooks."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts.categories import KINDS
from integrations.crypto import mask
from integrations.url_guard import UnsafeURL, check
from notifications.channels import webhook
from notifications.models import WebhookEndpoint
from notifications.webhook_api import send_test
from tenancy import scoping
from tenancy.models import Organization
from uniview.redirects import go_next

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

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizations"].queryset = scoping.scope(user, Organization.objects.order_by("name"))

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


def _endpoints(request):
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser manages webhooks.")
    return scoping.scope(request.user, WebhookEndpoint.objects.prefetch_related("organizations"))  # scoped


@login_required
def webhooks(request, pk=None):
    """The list; the form adds a webhook, or edits `pk`. A new secret is shown on this answer only."""
    endpoints = _endpoints(request)
    editing = get_object_or_404(endpoints, pk=pk) if pk else None
    form = WebhookForm(request.POST or None, instance=editing, user=request.user)
    created_secret = ""
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        secret = form.cleaned_data["secret"]
        if editing is None:
            endpoint.account = scoping.account_of(request.user)
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
        form = WebhookForm(user=request.user)
    return render(request, "notifications/webhooks.html", {
        "endpoints": [(e, mask(e.secret)) for e in endpoints], "form": form, "editing": editing,
        "created_secret": created_secret,
    })


@login_required
@require_POST
def webhook_delete(request, pk):
    endpoint = get_object_or_404(_endpoints(request), pk=pk)
    endpoint.delete()
    messages.success(request, f"Removed the webhook {endpoint.name}.")
    return go_next(request, reverse("webhooks"))


@login_required
@require_POST
def webhook_test(request, pk):
    endpoint = get_object_or_404(_endpoints(request), pk=pk)
    result = send_test(endpoint)
    (messages.success if result["ok"] else messages.error)(request, f"Test event to {endpoint.name}: {result['detail']}")
    return redirect("webhooks")
