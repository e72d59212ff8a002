"""Settings > PSA companies and the organization page's picker (R13.3, R19.2): a company is
picked from those the PSA lists, searched by name; never typed as an id."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render

from integrations.psa.connection import psa_integration
from notifications import psa_companies
from notifications.models import PsaCompanyMapping
from notifications.psa_companies import PsaUnavailable
from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page

REFUSAL = "Only a superuser maps organizations to PSA companies."
mapping_page = member_page(require=MANAGE, refusal=REFUSAL)
mapping_action = member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)


def _chosen(integration, organization, value: str, mapped: PsaCompanyMapping | None):
    """(company id, name) for a picked `value`, or raises ValueError saying why not."""
    if not value:
        return "", ""
    if mapped is not None and mapped.company == value:
        return value, mapped.company_name
    if integration is None:
        raise ValueError("Set up a PSA integration first.")
    name = psa_companies.company_name(integration, value)  # PsaUnavailable passes up
    if name is None:
        raise ValueError("The PSA has no such company any more; search again.")
    return value, name


@mapping_page
def psa_companies_page(request, member):
    """Every organization with its company, a picker each, and auto-map by name."""
    integration = psa_integration(member.account)
    organizations = list(member.scope(Organization).order_by("name"))
    mapped = {m.organization_id: m for m in member.scope(PsaCompanyMapping)}
    errors = {}
    if request.method == "POST":
        picked = {}
        for org in organizations:
            value = request.POST.get(f"company_{org.pk}", "").strip()
            current = mapped.get(org.pk)
            if value == (current.company if current else ""):
                continue
            try:
                picked[org.pk] = (org, *_chosen(integration, org, value, current))
            except (ValueError, PsaUnavailable) as exc:
                errors[org.pk] = str(exc)
        if not errors:
            with transaction.atomic():
                for org, company, name in picked.values():
                    psa_companies.set_company(org, company, name)
            messages.success(request, f"Saved the PSA companies ({len(picked)} changed).")
            return redirect("psa-companies")
    rows = [(org, mapped.get(org.pk), errors.get(org.pk)) for org in organizations]
    return render(request, "notifications/psa_companies.html", {"rows": rows, "integration": integration})


@mapping_page
def psa_company_search(request, member, pk):
    """htmx: the picker's choices for one organization, from a search of the PSA by name."""
    organization = member.get(Organization, pk=pk)
    integration = psa_integration(member.account)
    mapping = member.scope(PsaCompanyMapping).filter(organization=organization).first()
    text = " ".join(request.GET.get("q", "").split())[:100]
    found, problem = [], ""
    if integration is None:
        problem = "Set up a PSA integration first."
    elif text:
        try:
            found = psa_companies.search(integration, text)
        except PsaUnavailable as exc:
            problem = str(exc)
    return render(request, "notifications/_psa_company_choices.html", {
        "organization": organization, "mapping": mapping, "found": found, "searched": text, "problem": problem,
    })


@mapping_action
def psa_company_set(request, member, pk):
    """The organization page's picker: one organization's company."""
    organization = member.get(Organization, pk=pk)
    mapping = member.scope(PsaCompanyMapping).filter(organization=organization).first()
    try:
        company, name = _chosen(psa_integration(member.account), organization,
                                request.POST.get(f"company_{pk}", "").strip(), mapping)
    except (ValueError, PsaUnavailable) as exc:
        messages.error(request, f"PSA company not saved: {exc}")
    else:
        psa_companies.set_company(organization, company, name)
        messages.success(request, f"{organization.name} now opens tickets in {name or 'the default company'}.")
    return redirect("tenancy:organization", pk=organization.pk)


@mapping_action
def psa_auto_map(request, member):
    """R19.2: map every unmapped organization to the PSA company of the same name."""
    try:
        report = psa_companies.auto_map(member.account, member.scope(Organization).order_by("name", "pk"))
    except PsaUnavailable as exc:
        messages.error(request, str(exc))
    else:
        for line in report.sentences():
            messages.info(request, line)
    return redirect("psa-companies")
