"""R16.3: when a window applies, said in words in the reader's time zone (never an ISO stamp)."""

from datetime import timedelta

from django.utils import timezone

from maintenance import scope


def moment_in_words(moment, now, tz=None) -> str:
    """"today at 05:00 EST", "tomorrow at 01:00 EDT", "Sunday 1 November at 01:00 EDT"."""
    tz = tz or timezone.get_current_timezone()
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"{local:%A} {local.day} {local:%B}" + (f" {local.year}" if local.year != today.year else "")
    return f"{day} at {local:%H:%M} {local.tzname()}"


def note(covered, now, tz=None) -> str:
    """One window's sentence: in maintenance until …, or maintenance starts …"""
    name, occurrence = covered.window.name, covered.occurrence
    if occurrence.holds(now):
        return f"In maintenance until {moment_in_words(occurrence.end, now, tz)} ({name})."
    return (f"Maintenance starts {moment_in_words(occurrence.start, now, tz)}, "
            f"until {moment_in_words(occurrence.end, now, tz)} ({name}).")


def notes(account, now=None, organization_id=None, appliance_id=None, asset_id=None, anything=False, tz=None):
    """The sentences of the windows on now or within 24 hours that cover the subject given
    (`anything`: every such window, as the alert list says them)."""
    now = now or timezone.now()
    return [
        note(covered, now, tz) for covered in scope.soon(account, now)
        if anything or covered.covers(organization_id, appliance_id, asset_id)
    ]
