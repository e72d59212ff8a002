"""The conditional alarms page (R4): global thresholds, custom thresholds and their
organizations. Superusers change them; admins and monitors see them read-only (R1.3)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenancy import scoping
from tenancy.models import Organization
from thresholds import changes
from thresholds.effective import global_threshold
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment
from thresholds.serializers import CustomThresholdSerializer, GlobalThresholdSerializer

ORGANIZATIONS_SHOWN = 200


def _writer(request):
    """Reads for every member; a POST needs the superuser's right (403 otherwise)."""
    account = scoping.member_account(request.user)
    if request.method == "POST" and not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser may change thresholds.")
    return account


def _form_data(post):
    data = {k: post.get(k, "") for k in ("name", "backups_hours", "hot_copy_hours", "azure_hours") if k in post}
    for toggle in ("backups_enabled", "hot_copy_enabled"):
        data[toggle] = post.get(toggle) == "on"
    return data


def _context(request, account, **extra):
    return {
        "global": scoping.scope(request.user, GlobalThreshold.objects.all()).first() or GlobalThreshold(account=account),  # scoped
        # R1.4, R1.6: each custom threshold counts only the organizations this user sees.
        "customs": scoping.scope(request.user, CustomThreshold.objects.all()).annotate(  # scoped
            visible_organizations=Count("thresholdassignment", filter=Q(
                thresholdassignment__organization__in=scoping.scope(request.user, Organization.objects.all())))),
        "can_manage": scoping.can(request.user, scoping.MANAGE),
        **extra,
    }


@login_required
def page(request):
    """Global thresholds form (POST saves it) and the list of custom thresholds."""
    account = _writer(request)
    if request.method == "POST":
        serializer = GlobalThresholdSerializer(data=_form_data(request.POST), context={"account": account})
        if serializer.is_valid():
            serializer.save()
            messages.success(request, "Global thresholds saved; they apply from the next evaluation.")
            return redirect("thresholds:page")
        form = {"errors": serializer.errors, "values": request.POST}
        return render(request, "thresholds/page.html", _context(request, account, form=form), status=400)
    return render(request, "thresholds/page.html", _context(request, account, form=None))


@login_required
def custom_edit(request, pk=None):
    """Create (pk None) or edit a custom threshold; its organizations are assigned below the form."""
    account = _writer(request)
    threshold = None
    if pk is not None:
        threshold = get_object_or_404(scoping.scope(request.user, CustomThreshold.objects.all()), pk=pk)  # scoped
    form = None
    if request.method == "POST":
        serializer = CustomThresholdSerializer(
            threshold, data=_form_data(request.POST), context={"account": account, "request": request},
        )
        if serializer.is_valid():
            threshold = serializer.save()
            messages.success(request, f"Custom threshold '{threshold.name}' saved.")
            return redirect("thresholds:custom-edit", pk=threshold.pk)
        form = {"errors": serializer.errors, "values": request.POST}
    return render(request, "thresholds/custom_form.html", {
        "threshold": threshold, "form": form, "can_manage": scoping.can(request.user, scoping.MANAGE),
        "global": global_threshold(account), **_organization_list(request, threshold),
    }, status=400 if form else 200)


def _organization_list(request, threshold):
    """R4.3: assigned organizations first, then the rest; `q` narrows by name."""
    if threshold is None:
        return {"organizations": [], "q": ""}
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()
    organizations = scoping.scope(request.user, Organization.objects.all())  # scoped
    if query:
        organizations = organizations.filter(name__icontains=query)
    current = dict(
        ThresholdAssignment.objects.filter(organization__in=organizations)  # scoped: organizations is
        .values_list("organization_id", "threshold__name")
    )
    assigned_ids = set(
        ThresholdAssignment.objects.filter(threshold=threshold).values_list("organization_id", flat=True)  # scoped
    )
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


@login_required
def organizations(request, pk):
    """The organization list of one custom threshold (htmx search target)."""
    scoping.member_account(request.user)
    threshold = get_object_or_404(scoping.scope(request.user, CustomThreshold.objects.all()), pk=pk)  # scoped
    return render(request, "thresholds/_organizations.html", {
        "threshold": threshold, "can_manage": scoping.can(request.user, scoping.MANAGE),
        **_organization_list(request, threshold),
    })


@login_required
@require_POST
def assign(request, pk, org_id):
    """Assign (`action=assign`) or unassign one organization; answers the refreshed list."""
    _writer(request)
    threshold = get_object_or_404(scoping.scope(request.user, CustomThreshold.objects.all()), pk=pk)  # scoped
    organization = get_object_or_404(scoping.scope(request.user, Organization.objects.all()), pk=org_id)  # scoped
    if request.POST.get("action") == "assign":
        changes.set_custom_threshold(organization, threshold)
    elif ThresholdAssignment.objects.filter(organization=organization, threshold=threshold).exists():  # scoped
        changes.set_custom_threshold(organization, None)
    if request.headers.get("HX-Request"):
        return organizations(request, pk)
    return redirect("thresholds:custom-edit", pk=pk)


@login_required
def custom_delete(request, pk):
    """GET asks for confirmation; POST deletes and returns its organizations to global (R4.3)."""
    _writer(request)
    threshold = get_object_or_404(scoping.scope(request.user, CustomThreshold.objects.all()), pk=pk)  # scoped
    if request.method == "POST":
        name = threshold.name
        changes.delete_custom(threshold)
        messages.success(request, f"Custom threshold '{name}' deleted; its organizations use the global threshold again.")
        return redirect("thresholds:page")
    count = ThresholdAssignment.objects.filter(threshold=threshold).count()  # scoped
    return render(request, "thresholds/confirm_delete.html", {"threshold": threshold, "count": count})
