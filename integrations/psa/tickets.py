"""A ticket as every PSA client takes it, and how a client knows a found ticket is ours."""

from dataclasses import dataclass


@dataclass
class Ticket:
    title: str
    description: str
    company: str
    ref: str
    priority: str = ""  # R20.1: the PSA's priority id for the alert's severity ("" : the vendor's default)


def priority_for(options, severity: str) -> str:
    """R20.1: the priority id the account maps `severity` to on its PSA integration
    (`priority_critical`, `priority_warning`, `priority_info`), else its default `priority`."""
    return str(options.get(f"priority_{severity}") or options.get("priority") or "")


def is_ours(title, ref: str) -> bool:
    """Invariant 4: a ticket found by a vendor search is ours only when its title ends with
    the alert's `[ref]`, as the ticket's title is written. A search is looser than that (a LIKE
    character class, a case-insensitive `contains`, a person's "Follow-up to [UV-12]"),
    so a retry must never adopt or close what it merely found."""
    title = str(title or "").rstrip()
    suffix = f"[{ref}]"
    return title == suffix or title.endswith(" " + suffix)


def first_ours(rows, ref: str, title_key: str, id_key: str):
    """The id of the first row that is our ticket for `ref`, else None."""
    return next((row[id_key] for row in rows or [] if is_ours(row.get(title_key), ref)), None)
