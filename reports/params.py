"""Reading the reports' query parameters: a bad value is refused naming its field (400 in the
API, the form's error on a page), another account's organization answers like a missing one."""

from datetime import date, timedelta
from functools import cache

from django.core.exceptions import ValidationError

from tenancy.validation import parse_id

MAX_RANGE_DAYS = 400
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # no backup is older; nothing is that far ahead
BOUNDS = "Must be between 2000-01-01 and 2100-12-31."


class BadParameter(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


def parse_day(value, field) -> date | None:
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadParameter(field, "Must be a day written YYYY-MM-DD, e.g. 2026-11-01.") from None
    if not EARLIEST <= day <= LATEST:
        raise BadParameter(field, BOUNDS)
    return day


def parse_month(value, field="month", default=None) -> date:
    if value in (None, ""):
        if default is None:
            raise BadParameter(field, "Required: a month written YYYY-MM, e.g. 2026-11.")
        return default
    try:
        year, month = str(value).split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        found = date(int(year), int(month), 1)
    except (TypeError, ValueError):
        raise BadParameter(field, "Must be a month written YYYY-MM, e.g. 2026-11.") from None
    if not EARLIEST <= found <= LATEST:
        raise BadParameter(field, BOUNDS)
    return found


def day_range(from_value, to_value, today: date) -> tuple[date, date]:
    """`from`..`to`, both included; by default the 30 days before today."""
    last = parse_day(to_value, "to") or today - timedelta(days=1)
    first = parse_day(from_value, "from") or last - timedelta(days=29)
    if first > last:
        raise BadParameter("from", "Must not be after `to`.")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise BadParameter("from", f"The range may cover at most {MAX_RANGE_DAYS} days.")
    return first, last


def organization_of(member_scope, value, field="organization", required=False):
    """The organization with that id among those the member sees; another account's id, a
    malformed one and a missing one all answer the same (None), so nothing is told."""
    if value in (None, ""):
        if required:
            raise BadParameter(field, "Required: an organization's id.")
        return None
    pk = parse_id(value)
    if pk is None:
        raise BadParameter(field, "Must be an organization's id (a whole number).")
    return member_scope.filter(pk=pk).first()


@cache
def _zones() -> frozenset:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def validate_zone(value):
    """One of the IANA time zones this system knows ("Europe" is a folder, not a zone)."""
    if value not in _zones():
        raise ValidationError("Must be a time zone such as Europe/Berlin or America/New_York.")
