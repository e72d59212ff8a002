"""An alert's details as lines a person reads (a ticket, an email): labels in words, the
R7 checklist one check a line, moments as dates, never a raw key, dict or ISO stamp."""

from datetime import UTC, date, datetime

# Keys a person never needs: a program's key beside its words, or what another line already says.
_HIDDEN = {"root_cause", "failing_check", "organization_ids", "explains", "grouped_kind"}
_MARK = {True: "✓", False: "✗", None: "–"}


def _label(key: str) -> str:
    return key.removesuffix("_label").replace("_", " ").capitalize()


def _moment(value: str) -> str | None:
    """An ISO date or timestamp as a person writes it; None when it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == 10:
        return date.fromisoformat(value).strftime("%Y-%m-%d")
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return (_moment(value) if value[:1].isdigit() else None) or value
    if isinstance(value, dict):
        return "; ".join(f"{_text(k) if isinstance(k, str) else k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


def detail_lines(details) -> list[tuple[str, str]]:
    """(label, text) rows of an alert's details, in their order; the checklist of a conditional
    alarm (R7.1) gives one row per check, marked ✓ fine, ✗ failing, – not applicable."""
    rows = []
    for key, value in (details or {}).items():
        if key in _HIDDEN:
            continue
        if key == "checks" and isinstance(value, list):
            for check in value:
                if isinstance(check, dict) and "label" in check:
                    rows.append((f"{_MARK.get(check.get('ok'), '–')} {check['label']}", _text(check.get("value"))))
            continue
        rows.append((_label(key), _text(value)))
    return rows
