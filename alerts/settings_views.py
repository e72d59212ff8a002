"""Settings > Alerts in the dashboard (R2.1, R10.2, R11.4, R13.2): superuser writes, everyone else reads.

The form goes through the API's `AlertSettingsSerializer`, so the rules (known
categories, 1–8760 hours, valid addresses unique case-insensitively) live in
one place. Switching a category or purging off withdraws the open alerts at
once by evaluating the account now, rather than at the next scheduled run.
"""

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from alerts.alert_settings import save_alert_settings
from alerts.categories import CATEGORIES
from alerts.models import AlertSettings
from alerts.tasks import start_evaluation
from tenancy import job_views
from tenancy.pages import MANAGE, member_page

NOISE_FIELDS = ("storm_threshold", "incident_organizations", "flapping_raises")


def _form_data(post) -> dict:
    emails = [e for e in re.split(r"[\s,;]+", post.get("emails", "")) if e]
    return {
        "categories": {name: f"category_{name}" in post for name in CATEGORIES},
        "purging_alerts": "purging_alerts" in post,
        "realert_hours": post.get("realert_hours", "").strip(),
        "emails": emails,
        # R17, flapping: the noise-control limits.
        **{name: post[name].strip() for name in NOISE_FIELDS if name in post},
    }


@member_page(write=MANAGE, refusal="Only a superuser changes alert settings.")  # R1.3
def alert_settings(request, member):
    can_edit = member.can(MANAGE)
    current = AlertSettings.for_account(member.account)
    errors, submitted = {}, None
    if request.method == "POST":
        submitted = _form_data(request.POST)
        current, errors = save_alert_settings(member.account, submitted, timezone.now())
        if not errors:
            messages.success(request, "Alert settings saved.")
            return redirect("alert-settings-page")
    shown = submitted if errors else {
        "categories": current.categories, "purging_alerts": current.purging_alerts,
        "realert_hours": current.realert_hours, "emails": current.emails,
        **{name: getattr(current, name) for name in NOISE_FIELDS},
    }
    rows = [
        {"name": name, "label": name.replace("_", " ").capitalize(), "sentence": sentence,
         "on": shown["categories"].get(name, True)}
        for name, sentence in CATEGORIES.items()
    ]
    return render(request, "alerts/settings.html", {
        "rows": rows, "shown": shown, "emails_text": "\n".join(shown["emails"]), "errors": errors,
        "can_edit": can_edit,
    }, status=400 if errors else 200)


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser runs an evaluation.")
def evaluate_now(request, member):
    """Evaluate the account now, in a worker: the person watches the job's page until it is done."""
    return job_views.show(start_evaluation(member.account, member.user))
