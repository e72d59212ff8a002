"""The audit log page (superusers): newest first, filter by action prefix and by person."""

from django.shortcuts import render

from audit.models import AuditEntry
from tenancy.models import Membership
from tenancy.pages import MANAGE, member_page
from tenancy.validation import parse_id

PAGE = 100


@member_page(require=MANAGE, refusal="Only a superuser may read the audit log.")
def audit_list(request, member):
    entries = member.scope(AuditEntry).select_related("actor")
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    if (actor_id := parse_id(actor)) is not None:
        entries = entries.filter(actor_id=actor_id)
    before = request.GET.get("before", "")
    if (before_id := parse_id(before)) is not None:
        entries = entries.filter(id__lt=before_id)
    page = list(entries.order_by("-id")[: PAGE + 1])
    people = member.scope(Membership).select_related("user").order_by("user__email")
    return render(request, "audit/list.html", {
        "entries": page[:PAGE], "older": page[PAGE - 1].pk if len(page) > PAGE else None,
        "action": action, "actor": actor, "people": people,
    })
