"""A backup schedule in words, for a person: "every day at 22:00 (America/New_York)".

Common rules get a sentence; anything else is called a custom schedule and keeps its rule, so
nothing is hidden."""

from datetime import datetime

DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday", "SA": "Saturday",
        "SU": "Sunday"}
UNITS = {"HOURLY": "hour", "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month"}


def _parts(rrule: str) -> dict:
    parts = {}
    for item in (rrule or "").upper().removeprefix("RRULE:").split(";"):
        key, _, value = item.partition("=")
        if key:
            parts[key.strip()] = value.strip()
    return parts


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _times(parts, first) -> str:
    hours = [int(h) for h in parts.get("BYHOUR", str(first.hour) if first else "0").split(",")]
    minutes = [int(m) for m in parts.get("BYMINUTE", str(first.minute) if first else "0").split(",")]
    return _and([f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)])


def _ordinal(n: int) -> str:
    if n < 0:
        return "last" if n == -1 else f"{_ordinal(-n)} from last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe(rrule: str, dtstart: str = "", zone: str = "UTC") -> str:
    try:
        first = datetime.fromisoformat(dtstart) if dtstart else None
        parts = _parts(rrule)
        frequency, interval = parts.get("FREQ", ""), int(parts.get("INTERVAL", "1"))
        unit = UNITS[frequency]
        every = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
        if frequency == "HOURLY":
            text = every
        elif frequency == "DAILY":
            text = f"{every} at {_times(parts, first)}"
        elif frequency == "WEEKLY":
            days = [DAYS[d[-2:]] for d in parts.get("BYDAY", "").split(",") if d] or (
                [first.strftime("%A")] if first else [])
            on = f"every {_and(days)}" if interval == 1 and days else f"{every} on {_and(days)}" if days else every
            text = "every day" if len(days) == 7 and interval == 1 else on
            text += f" at {_times(parts, first)}"
        else:
            monthdays = [int(d) for d in parts.get("BYMONTHDAY", str(first.day) if first else "1").split(",")]
            text = f"on the {_and([_ordinal(d) for d in monthdays])} day of {every.replace('every ', 'every ', 1)}"
            text += f" at {_times(parts, first)}"
        return f"{text} ({zone or 'UTC'})"
    except (KeyError, ValueError, TypeError):
        return f"a custom schedule ({rrule}, {zone or 'UTC'})"
