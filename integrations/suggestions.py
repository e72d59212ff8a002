"""Which organization a SaaS source or a Datto client probably belongs to, by name: "acme.onmicrosoft.com"
and "Acme Corp" → Acme. Only a suggestion: a superuser confirms it with one click."""

import re
from difflib import SequenceMatcher

GENERIC = {"com", "net", "org", "io", "co", "uk", "de", "fr", "onmicrosoft", "sharepoint", "google", "inc", "ltd",
           "llc", "gmbh", "corp", "corporation", "company", "the", "sa", "sas", "bv", "www", "mail", "my"}
THRESHOLD = 0.8


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", (name or "").lower()) if w and w not in GENERIC]


def score(source_name: str, organization_name: str) -> float:
    """1.0 when the organization's words all appear in the source's name; else how alike the names read."""
    source, organization = _words(source_name), _words(organization_name)
    if not source or not organization:
        return 0.0
    if all(w in source for w in organization):
        return 1.0
    return SequenceMatcher(None, "".join(source), "".join(organization)).ratio()


def suggest(source_name: str, organizations):
    """The organization whose name best matches, if it matches well enough; None otherwise."""
    best, best_score = None, THRESHOLD
    for organization in organizations:
        value = score(source_name, organization.name)
        if value > best_score or (value == best_score and best is None):
            best, best_score = organization, value
    return best
