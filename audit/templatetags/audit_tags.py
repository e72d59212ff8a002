"""The audit log in words: "Changes" as `backups hours: 4 → 8`, not a dict; "Action" as
`Alert settings changed`, not `alert_settings.update`."""

from django import template

register = template.Library()


def _value(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_value(item)}" for key, item in value.items())
    return str(value)


@register.filter
def audit_changes(changes) -> list[str]:
    """One line per changed field; a secret says only that it was set or changed."""
    lines = []
    for name, change in (changes or {}).items():
        label = name.replace("_", " ")
        if isinstance(change, list) and len(change) == 2:
            lines.append(f"{label}: {_value(change[0])} → {_value(change[1])}")
        elif isinstance(change, str):
            lines.append(f"{label} {change}")
        else:
            lines.append(f"{label}: {_value(change)}")
    return lines


VERBS = {"create": "created", "update": "changed", "delete": "removed"}


@register.filter
def audit_action(action) -> str:
    """`alert_settings.update` → "Alert settings changed"; an action of another shape in words too."""
    target, _, verb = str(action or "").rpartition(".")
    words = f"{target.replace('_', ' ').replace('.', ' ')} {VERBS.get(verb, verb.replace('_', ' '))}".strip()
    return words[:1].upper() + words[1:]
