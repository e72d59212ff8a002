"""Two-way PSA, the company half (R19.2): an organization's PSA company is chosen from the
companies the PSA lists, searched by name, never typed as an id in the dashboard.

Searches go through the PSA's API (integrations/<vendor>/client.py `companies`) and are kept
in the cache for CACHE_SECONDS per integration and search, so typing in the picker costs the
PSA one call per new search. `auto_map` maps every unmapped organization whose name matches one
company's name, exactly or once normalized. `check_mappings` (daily, from the read-back) flags
a mapping whose company the PSA no longer has.
"""

import hashlib
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.http import PermanentError, TransientError
from integrations.psa.connection import client_for, psa_integration
from integrations.psa.tickets import Company
from notifications.models import PsaCompanyMapping

CACHE_SECONDS = 300
SEARCH_LIMIT = 25
AUTO_MAP_LIMIT = 100
# Words a company's legal name carries that its organization's name often leaves out.
LEGAL_WORDS = {"inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh",
               "plc", "pty", "sa", "sas", "sarl", "bv", "ag", "srl", "the"}


class PsaUnavailable(Exception):
    """The PSA could not answer; the message says why, for a person."""


def _cache_key(integration, *parts) -> str:
    """Per integration and where it points: a PSA moved to another host searches afresh."""
    where = hashlib.sha256(f"{integration.kind} {integration.base_url}".encode()).hexdigest()[:12]
    return ":".join(["psa-companies", str(integration.pk), where, *(hashlib.sha256(p.encode()).hexdigest()[:24]
                                                                    if len(p) > 40 else p for p in parts)])


def search(integration, text: str, limit: int = SEARCH_LIMIT) -> list[Company]:
    """The PSA's companies whose name holds `text` (cached a few minutes)."""
    text = " ".join(text.split())[:100]
    key = _cache_key(integration, "search", str(limit), text.casefold())
    found = cache.get(key)
    if found is None:
        try:
            found = client_for(integration).companies(text, limit)
        except (TransientError, PermanentError) as exc:
            raise PsaUnavailable(f"The PSA did not answer the search: {exc}") from exc
        cache.set(key, found, CACHE_SECONDS)
        for company in found:  # a later check of one of these ids needs no call
            cache.set(_cache_key(integration, "id", company.id), company.name, CACHE_SECONDS)
    return found


def company_name(integration, company_id: str) -> str | None:
    """The name of the PSA's company `company_id`; None when the PSA has no such company.
    Raises PsaUnavailable when the PSA cannot say."""
    key = _cache_key(integration, "id", company_id)
    name = cache.get(key)
    if name is None:
        try:
            known = client_for(integration).known_companies([company_id])
        except (TransientError, PermanentError) as exc:
            raise PsaUnavailable(f"The PSA could not be asked about company {company_id}: {exc}") from exc
        if company_id not in known:
            return None
        name = known[company_id]
        cache.set(key, name, CACHE_SECONDS)
    return name


def set_company(organization, company_id: str, name: str = "") -> None:
    """Map `organization` to the PSA company `company_id` (blank: the default company)."""
    if not company_id:
        PsaCompanyMapping.objects.filter(organization=organization).delete()
        return
    PsaCompanyMapping.objects.update_or_create(
        organization=organization,
        defaults={"account_id": organization.account_id, "company": company_id, "company_name": name[:200],
                  "missing_since": None},
    )


def normalized(name: str) -> str:
    """A name as auto-mapping compares it: case, punctuation, `&`/`and` and legal words aside."""
    words = re.sub(r"[^\w]+", " ", name.casefold().replace("&", " and ")).split()
    while len(words) > 1 and words[-1] in LEGAL_WORDS:
        words.pop()
    return " ".join(w for w in words if w != "the" or len(words) == 1)


@dataclass
class AutoMapReport:
    """What auto-mapping did, for a person."""

    mapped: list[tuple[str, str]] = field(default_factory=list)  # (organization, company)
    ambiguous: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    kept: int = 0
    stopped: str = ""

    def sentences(self) -> list[str]:
        lines = []
        if self.mapped:
            pairs = "; ".join(f"{org} → {company}" for org, company in self.mapped)
            lines.append(f"Mapped {len(self.mapped)} organization{'s' * (len(self.mapped) != 1)}: {pairs}.")
        if self.ambiguous:
            lines.append(f"Several companies match, choose by hand: {', '.join(self.ambiguous)}.")
        if self.not_found:
            lines.append(f"No company of the same name in the PSA: {', '.join(self.not_found)}.")
        if self.kept:
            lines.append(f"{self.kept} organization{'s' * (self.kept != 1)} already mapped, left as they are.")
        if self.stopped:
            lines.append(f"Stopped before the end, the others are not mapped yet: {self.stopped}")
        return lines or ["There are no organizations to map."]

    def as_dict(self) -> dict:
        return {"mapped": [{"organization": o, "company": c} for o, c in self.mapped],
                "ambiguous": self.ambiguous, "not_found": self.not_found, "kept": self.kept,
                "stopped": self.stopped}


def auto_map(account, organizations) -> AutoMapReport:
    """R19.2: each of `organizations` without a company is mapped to the PSA company of the
    same name (exact, else normalized) when exactly one matches. Mapped ones are kept."""
    integration = psa_integration(account)
    if integration is None:
        raise PsaUnavailable("This account has no PSA integration.")
    report = AutoMapReport()
    mapped = set(PsaCompanyMapping.objects.filter(account=account).values_list("organization_id", flat=True))
    for organization in organizations:
        if organization.pk in mapped:
            report.kept += 1
            continue
        try:
            company = _match(integration, organization.name)
        except PsaUnavailable as exc:
            report.stopped = str(exc)
            break
        if company is None:
            report.not_found.append(organization.name)
        elif company == "ambiguous":
            report.ambiguous.append(organization.name)
        else:
            set_company(organization, company.id, company.name)
            report.mapped.append((organization.name, company.name))
    return report


def _match(integration, name: str):
    """The one company named `name` (exactly, else normalized), None, or "ambiguous"."""
    wanted = normalized(name)
    first_word = wanted.split(" ")[0] if wanted else name
    candidates = search(integration, first_word, AUTO_MAP_LIMIT)
    for same in (lambda c: c.name.strip().casefold() == name.strip().casefold(),
                 lambda c: normalized(c.name) == wanted):
        matches = {c.id: c for c in candidates if same(c)}
        if len(matches) == 1:
            return next(iter(matches.values()))
        if len(matches) > 1:
            return "ambiguous"
    return None


def check_mappings(integration, client, now=None) -> int:
    """R19.2: flag the account's mappings whose company the PSA no longer has (and refresh the
    names of the others). Answers how many are flagged."""
    now = now or timezone.now()
    mappings = list(PsaCompanyMapping.objects.filter(account_id=integration.account_id))
    ids = sorted({m.company for m in mappings if m.company.isdigit()})
    known = client.known_companies(ids) if ids else {}
    flagged = 0
    with transaction.atomic():
        for mapping in mappings:
            if mapping.company in known:
                name, missing = known[mapping.company][:200] or mapping.company_name, None
            else:
                name, missing = mapping.company_name, mapping.missing_since or now
                flagged += 1
            if (name, missing) != (mapping.company_name, mapping.missing_since):
                PsaCompanyMapping.objects.filter(pk=mapping.pk).update(company_name=name, missing_since=missing)
    return flagged
