"""What a person reads: sizes in GB/TB, moments as "3 h ago" with the date in their time zone.

    {% load human %}
    {{ appliance.logical_free_bytes|size }}     → "1.2 TB"
    {% ago alert.raised_at %}                   → <time datetime="…" title="30 Nov 2026, 14:05 CET">3 h ago</time>
"""

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

UNITS = (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3))


@register.filter
def size(value) -> str:
    """Bytes in the largest decimal unit that fits, as storage vendors count them."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return "–"
    for unit, factor in UNITS:
        if abs(value) >= factor:
            amount = value / factor
            return f"{amount:.1f} {unit}" if amount < 100 else f"{amount:,.0f} {unit}"
    return f"{value} bytes"


def relative(moment, now=None) -> str:
    """ "just now", "12 min ago", "3 h ago", "2 days ago"; "in 5 min" for a moment to come."""
    if moment is None:
        return "never"
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    for unit, length in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            count = seconds // length
            text = f"{count} {unit}{'s' if unit == 'day' and count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return ""  # unreachable


@register.filter
def ago(moment) -> str:
    return relative(moment)


@register.simple_tag
def when(moment, empty="never"):
    """A moment as a relative time, its full date (in the active time zone: the user's) on hover."""
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(),
                       local.strftime("%-d %b %Y, %H:%M %Z"), relative(moment))
