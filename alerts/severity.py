"""R20.1: the severity of every alert kind, in one table.

A kind maps to `critical`, `warning` or `info`, or to a small function of the condition's
details where its severity depends on them (backups failing for days are critical, a
missed backup within the first threshold is a warning). The function reads the details
only, never the clock: a raise and a later cycle that keeps the alert (its details
changed, e.g. one more missed start) agree on what the severity is.
"""

from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Value, When

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES = (CRITICAL, WARNING, INFO)  # most severe first
LABELS = {CRITICAL: "Critical", WARNING: "Warning", INFO: "Info"}
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# Backups that have not succeeded for this long are "failing for days" (R20.1).
FAILING_FOR = timedelta(days=2)


def _moment(text):
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def _days_apart(earlier, later) -> bool:
    earlier, later = _moment(earlier), _moment(later)
    return earlier is not None and later is not None and later - earlier >= FAILING_FOR


def backup_alarm(details) -> str:
    """Critical when the appliance is offline or the last good backup is two days or more
    before the start now overdue (or there never was one and two starts were missed);
    otherwise a missed or failed backup within the first threshold: a warning."""
    if details.get("root_cause") == "appliance_offline":
        return CRITICAL
    last_good = next((c.get("at") for c in details.get("checks", ()) if c.get("key") == "last_good_backup"), None)
    if last_good is None:
        return CRITICAL if len(details.get("missed_starts") or ()) >= 2 else WARNING
    return CRITICAL if _days_apart(last_good, details.get("due_start")) else WARNING


def hot_copy_alarm(details) -> str:
    """Critical when the appliance is offline; a copy behind its threshold is a warning."""
    return CRITICAL if details.get("root_cause") == "appliance_offline" else WARNING


def appliance_alert(details) -> str:
    """Possible ransomware is critical; otherwise the appliance's own severity (storage nearly
    full is a warning), anything it calls an error counting as critical."""
    if details.get("category") == "security":
        return CRITICAL
    value = str(details.get("severity") or "").lower()
    if value in ("critical", "error", "fatal", "emergency"):
        return CRITICAL
    return INFO if value in ("info", "informational", "notice") else WARNING


def spanning(details) -> str:
    """Failed backups for two days or more are critical; failed since less, or partial: a warning."""
    if details.get("level") == "failed" and _days_apart(details.get("since"), details.get("newest_status_date")):
        return CRITICAL
    return WARNING


def dbma_backup(details) -> str:
    """Azure backups failing for two days or more (the last attempt that long after the last
    success, or never a success) are critical; otherwise a warning."""
    if details.get("last_successful_backup_at") is None:
        return CRITICAL if details.get("last_backup_at") else WARNING
    return CRITICAL if _days_apart(details.get("last_successful_backup_at"), details.get("last_backup_at")) else WARNING


def alert_storm(details) -> str:
    """A storm (R17.1) is as severe as the kind of alert it groups; a kind whose severity
    depends on each condition counts as a warning."""
    kind = details.get("grouped_kind")
    return severity(kind, {}) if kind in SEVERITY_OF_KIND and kind != "alert_storm" else WARNING


# The table: every kind, and where its severity depends on the condition, the function deciding it.
SEVERITY_OF_KIND = {
    "appliance_offline": CRITICAL,
    "appliance_alert": appliance_alert,
    "appliance_upgrade": INFO,
    "backup_alarm": backup_alarm,
    "hot_copy_alarm": hot_copy_alarm,
    "spanning_m365": spanning,
    "spanning_gws": spanning,
    "spanning_salesforce": spanning,
    "dbma_backup": dbma_backup,
    "dbma_integration": WARNING,
    "purging": INFO,
    "vendor_incident": CRITICAL,
    "alert_storm": alert_storm,
}



def severity(kind: str, details: dict | None) -> str:
    """The severity of an alert of `kind` with `details` (a kind not in the table: a warning)."""
    rule = SEVERITY_OF_KIND.get(kind, WARNING)
    if callable(rule):
        try:
            return rule(details or {})
        except (AttributeError, TypeError, ValueError):  # details of another shape: the safe middle
            return WARNING
    return rule


def label(value: str) -> str:
    return LABELS.get(value, value.capitalize())


def rank_expression(field: str = "severity"):
    """The severity's rank in SQL (0 critical, 1 warning, 2 info): sorts most severe first."""
    return Case(*(When(**{field: name}, then=Value(rank)) for name, rank in RANK.items()),
                default=Value(RANK[WARNING]), output_field=IntegerField())


def of_rank(rank) -> str:
    return SEVERITIES[rank] if rank is not None and 0 <= rank < len(SEVERITIES) else WARNING
