"""Dates, ratios and states as people read them (no ISO stamps in what a person reads)."""

from datetime import date


def day_text(day: date) -> str:
    """"1 November 2026"."""
    return f"{day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    """"Sun 1 Nov"."""
    return f"{day:%a} {day.day} {day:%b}"


def percent(ratio) -> str:
    """"87.5 %", or "—" when nothing was protected."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.1f} %".replace(".0 %", " %")


def month_text(month: date) -> str:
    return f"{month:%B %Y}"
