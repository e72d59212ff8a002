"""Dates in the person's time zone: the one they chose (Settings › Time zone), else their
browser's, which static/js/uniview.js keeps in the `tz` cookie (Intl.DateTimeFormat), else UTC."""

from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

COOKIE = "tz"


def valid(name: str) -> bool:
    return bool(name) and len(name) <= 64 and name in zone_names()


_ZONES: set[str] = set()


def zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def chosen(user) -> str:
    membership = getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    return getattr(membership, "time_zone", "") or ""


class TimeZoneMiddleware:
    """Activates the person's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = chosen(request.user) or unquote(request.COOKIES.get(COOKIE, ""))
        if valid(name):
            timezone.activate(ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
