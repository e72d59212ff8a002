"""Turning model saves and deletes into audit entries, without touching the code that saves.

Each tracked model is listed in TRACKED with the fields worth recording. A
`pre_save` reads the row as stored, `post_save` writes the fields that changed,
`post_delete` records the removal; an update that changes no tracked field
writes nothing (pollers re-save rows all the time). Credentials are never
recorded: an Integration's `credentials` field is only reported as changed.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.context import current_actor, current_request_id
from audit.models import AuditEntry

SECRET = "credentials"  # recorded as "changed", never with a value


@dataclass(frozen=True)
class Tracked:
    model: str  # "app_label.Model"
    target: str  # target_type and action prefix
    fields: tuple = ()  # empty: every concrete field but the ignored ones
    ignore: tuple = ("id", "account", "created_at", "updated_at")
    create: bool = True  # False: creations by pollers/ingest are not people's changes
    delete: bool = True
    account_path: str = "account_id"


TRACKED = [
    Tracked("thresholds.GlobalThreshold", "threshold.global"),
    Tracked("thresholds.CustomThreshold", "threshold.custom"),
    Tracked("thresholds.ThresholdAssignment", "threshold.assignment", account_path="threshold.account_id"),
    Tracked("alerts.AlertSettings", "alert_settings"),
    Tracked("integrations.Integration", "integration",
            ignore=("id", "account", "created_at", "last_sync_at", "last_sync_ok", "last_error",
                    "suspicious_polls")),
    Tracked("tenancy.Organization", "organization"),
    Tracked("tenancy.Membership", "membership", fields=("role", "user")),
    # Mapping a source to an organization is a person's decision (R9.1); rows themselves come from polls.
    Tracked("inventory.SaasSource", "mapping.saas_source", fields=("organization",), create=False, delete=False),
    Tracked("inventory.AzureAsset", "mapping.azure_asset", fields=("organization",), create=False, delete=False),
    Tracked("inventory.DattoClient", "mapping.datto_client", fields=("organization",), create=False, delete=False),
    Tracked("notifications.PsaCompanyMapping", "mapping.psa_company"),
    # The secret is never recorded; a 410 that disables a webhook is the receiver's act, not a person's.
    Tracked("notifications.WebhookEndpoint", "webhook", fields=("name", "url", "events", "kinds", "severities",
                                                            "enabled")),
    Tracked("tenancy.Account", "account_settings", fields=("require_two_factor",), create=False, delete=False,
            account_path="pk"),
]


def _fields(model, spec: Tracked) -> list:
    if spec.fields:
        return [model._meta.get_field(name) for name in spec.fields]
    return [f for f in model._meta.concrete_fields if f.name not in spec.ignore]


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _snapshot(instance, spec):
    return {f.name: _plain(getattr(instance, f.attname)) for f in _fields(type(instance), spec)}


def _stored(model, pk, spec):
    """The row as stored, only the tracked columns (one small query)."""
    fields = _fields(model, spec)
    row = model._base_manager.filter(pk=pk).values(*[f.attname for f in fields]).first()
    return None if row is None else {f.name: _plain(row[f.attname]) for f in fields}


def _account_id(instance, spec):
    value = instance
    for part in spec.account_path.split("."):
        value = getattr(value, part, None)
    return value


def _diff(before, after):
    changes = {}
    for name in after:
        old, new = (before or {}).get(name), after[name]
        if before is not None and old == new:
            continue
        changes[name] = "changed" if name == SECRET else [old, new]
    if before is None:
        changes.pop(SECRET, None)
        if after.get(SECRET):
            changes[SECRET] = "set"
    return changes


def write(account_id, action, target_type, target_id="", target_label="", changes=None, actor=None):
    if account_id is None:
        return None
    if actor is not None:
        label = actor.email or actor.get_username()
    else:
        actor, label = current_actor()
    return AuditEntry.objects.create(
        account_id=account_id, actor=actor, actor_label=label[:254], action=action,
        target_type=target_type, target_id=str(target_id), target_label=str(target_label)[:300],
        changes=changes or {}, request_id=current_request_id(),
    )


def _handlers(spec: Tracked):
    names = {f.name for f in _fields(apps.get_model(spec.model), spec)} | {
        f.attname for f in _fields(apps.get_model(spec.model), spec)}

    def untouched(update_fields):
        # A save limited to other columns (a poll's last_sync_*) cannot change what we track: no query.
        return update_fields is not None and not names & set(update_fields)

    def before(sender, instance, raw=False, update_fields=None, **kwargs):
        instance._audit_before = None
        if raw or instance.pk is None or untouched(update_fields):
            return
        instance._audit_before = _stored(sender, instance.pk, spec)

    def after(sender, instance, created, raw=False, update_fields=None, **kwargs):
        if raw or (created and not spec.create) or untouched(update_fields):
            return
        before_values = None if created else getattr(instance, "_audit_before", None)
        if not created and before_values is None:
            return  # saved without our pre_save (raw); nothing to compare
        changes = _diff(before_values, _snapshot(instance, spec))
        if not changes:
            return
        verb = "create" if created else "update"
        write(_account_id(instance, spec), f"{spec.target}.{verb}", spec.target, instance.pk, str(instance), changes)

    def deleted(sender, instance, **kwargs):
        if spec.delete:
            write(_account_id(instance, spec), f"{spec.target}.delete", spec.target, instance.pk, str(instance))

    return before, after, deleted


def _membership_organizations(sender, instance, action, pk_set, reverse, **kwargs):
    """A limited admin's organizations (R1.4) are a mapping worth an entry too."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    change = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    write(instance.account_id, "membership.organizations", "membership", instance.pk, str(instance),
          {"organizations": {change: sorted(pk_set or [])}})


def _dismissals(sender, events, **kwargs):
    """One entry per dismissal action (one `record()` call), however many alerts it covered (R11)."""
    dismissed = [e for e in events if e.type == "dismissed"]
    if not dismissed:
        return
    first = dismissed[0]
    alert_ids = [e.alert_id for e in dismissed]
    label = first.alert.title if len(dismissed) == 1 else f"{len(dismissed)} alerts"
    write(first.account_id, "alert.dismiss", "alert", first.alert_id if len(dismissed) == 1 else "", label,
          {"count": len(dismissed), "alerts": alert_ids[:1000], "reason": first.reason}, actor=first.actor)


def _account_removed(sender, instance, **kwargs):
    """An account's removal removes what is in it first, and those removals are audited: the
    entries written meanwhile go with the account, like every earlier one (its foreign key cascades,
    but only to the entries that were there when the removal began)."""
    AuditEntry.objects.filter(account_id=instance.pk).delete()


def connect():
    from tenancy.models import Account

    post_delete.connect(_account_removed, sender=Account, weak=False, dispatch_uid="audit:account-removed")
    for spec in TRACKED:
        try:
            model = apps.get_model(spec.model)
        except LookupError:  # an app not installed in this deployment
            continue
        before, after, deleted = _handlers(spec)
        uid = f"audit:{spec.model}"
        pre_save.connect(before, sender=model, weak=False, dispatch_uid=uid + ":pre")
        post_save.connect(after, sender=model, weak=False, dispatch_uid=uid + ":post")
        post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=uid + ":del")
    from tenancy.models import Membership

    m2m_changed.connect(_membership_organizations, sender=Membership.organizations.through,
                        weak=False, dispatch_uid="audit:membership-orgs")
    from alerts.events import events_recorded

    events_recorded.connect(_dismissals, dispatch_uid="audit:dismissals")
