"""The conditional alarms page (R4): global thresholds, custom thresholds and their
organizations. Superusers change them; admins and monitors see them read-only (R1.3)."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page
from thresholds import changes
from thresholds.effective import global_threshold
from thresholds.models import CustomThreshold, GlobalThreshold
from thresholds.serializers import CustomThresholdSerializer, GlobalThresholdSerializer

ORGANIZATIONS_SHOWN = 200
REFUSAL = "Only a superuser may change thresholds."
# Reads for every member; a POST needs the superuser's right (403 otherwise).
thresholds_page = member_page(write=MANAGE, refusal=REFUSAL)


def _form_data(post):
    data = {k: post.get(k, "") for k in ("name", "backups_hours", "hot_copy_hours", "azure_hours") if k in post}
    for toggle in ("backups_enabled", "hot_copy_enabled"):
        data[toggle] = post.get(toggle) == "on"
    return data


def _context(member, **extra):
    return {
        "global": member.scope(GlobalThreshold).first() or GlobalThreshold(account=member.account),
        # R1.4, R1.6: each custom threshold counts only the organizations this user sees.
        "customs": member.scope(CustomThreshold).annotate(
            visible_organizations=Count("thresholdassignment", filter=Q(
                thresholdassignment__organization__in=member.scope(Organization)))),
        "can_manage": member.can(MANAGE),
        **extra,
    }


@thresholds_page
def page(request, member):
    """Global thresholds form (POST saves it) and the list of custom thresholds."""
    if request.method == "POST":
        serializer = GlobalThresholdSerializer(data=_form_data(request.POST), context={"account": member.account})
        if serializer.is_valid():
            serializer.save()
            messages.success(request, "Global thresholds saved; they apply from the next evaluation.")
            return redirect("thresholds:page")
        form = {"errors": serializer.errors, "values": request.POST}
        return render(request, "thresholds/page.html", _context(member, form=form), status=400)
    return render(request, "thresholds/page.html", _context(member, form=None))


@thresholds_page
def custom_edit(request, member, pk=None):
    """Create (pk None) or edit a custom threshold; its organizations are assigned below the form."""
    threshold = None
    if pk is not None:
        threshold = member.get(CustomThreshold, pk=pk)
    form = None
    if request.method == "POST":
        serializer = CustomThresholdSerializer(
            threshold, data=_form_data(request.POST), context={"account": member.account, "request": request},
        )
        if serializer.is_valid():
            threshold = serializer.save()
            messages.success(request, f"Custom threshold '{threshold.name}' saved.")
            return redirect("thresholds:custom-edit", pk=threshold.pk)
        form = {"errors": serializer.errors, "values": request.POST}
    return render(request, "thresholds/custom_form.html", {
        "threshold": threshold, "form": form, "can_manage": member.can(MANAGE),
        "global": global_threshold(member.account), **_organization_list(request, member, threshold),
    }, status=400 if form else 200)


def _organization_list(request, member, threshold):
    """R4.3: assigned organizations first, then the rest; `q` narrows by name."""
    if threshold is None:
        return {"organizations": [], "q": ""}
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    organizations = member.scope(Organization)
    if query:
        organizations = organizations.filter(name__icontains=query)
    current = dict(
        organizations.filter(threshold_assignment__isnull=False)
        .values_list("pk", "threshold_assignment__threshold__name")
    )
    assigned_ids = set(threshold.thresholdassignment_set.values_list("organization_id", flat=True))
    ordered = organizations.order_by("name")
    assigned = list(ordered.filter(pk__in=assigned_ids))
    others = list(ordered.exclude(pk__in=assigned_ids)[: ORGANIZATIONS_SHOWN + 1])
    return {
        "organizations": [
            {"org": o, "assigned": o.pk in assigned_ids, "elsewhere": current.get(o.pk) if o.pk not in assigned_ids else None}
            for o in assigned + others[:ORGANIZATIONS_SHOWN]
        ],
        "more": len(others) > ORGANIZATIONS_SHOWN,
        "q": query,
    }


def _organizations(request, member, threshold):
    return render(request, "thresholds/_organizations.html", {
        "threshold": threshold, "can_manage": member.can(MANAGE),
        **_organization_list(request, member, threshold),
    })


@member_page
def organizations(request, member, pk):
    """The organization list of one custom threshold (htmx search target)."""
    return _organizations(request, member, member.get(CustomThreshold, pk=pk))


@member_page(methods=["POST"], write=MANAGE, refusal=REFUSAL)
def assign(request, member, pk, org_id):
    """Assign (`action=assign`) or unassign one organization; answers the refreshed list."""
    threshold = member.get(CustomThreshold, pk=pk)
    organization = member.get(Organization, pk=org_id)
    if request.POST.get("action") == "assign":
        changes.set_custom_threshold(organization, threshold)
    elif threshold.thresholdassignment_set.filter(organization=organization).exists():
        changes.set_custom_threshold(organization, None)
    if request.headers.get("HX-Request"):
        return _organizations(request, member, threshold)
    return redirect("thresholds:custom-edit", pk=pk)


@thresholds_page
def custom_delete(request, member, pk):
    """GET asks for confirmation; POST deletes and returns its organizations to global (R4.3)."""
    threshold = member.get(CustomThreshold, pk=pk)
    if request.method == "POST":
        name = threshold.name
        changes.delete_custom(threshold)
        messages.success(request, f"Custom threshold '{name}' deleted; its organizations use the global threshold again.")
        return redirect("thresholds:page")
    count = threshold.thresholdassignment_set.count()
    return render(request, "thresholds/confirm_delete.html", {"threshold": threshold, "count": count})
