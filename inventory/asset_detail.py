"""The facts of an asset's detail (R12.1) and its recovery points, shared by the API and the dashboard.

Recovery points are the asset's local backups and their copies in one list,
newest first. They live in two tables, so the page is a merge of the newest
rows of each after a cursor `(started_at, rank, id)` — the same order in both
places, so paging never repeats or skips a point.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from inventory.models import GOOD_STATUSES, AssetType, Backup, BackupCopy, Job
from inventory.schedule_words import describe
from inventory.schedules import RecurrenceCache, describe_local
from inventory.signals import job_cancel_requested
from tenancy.validation import BIGINT_MAX

TYPE_DESCRIPTIONS = {
    AssetType.VMWARE: "VMware virtual machine, protected host-level through vCenter or ESXi.",
    AssetType.HYPERV: "Hyper-V virtual machine, protected host-level.",
    AssetType.WINDOWS: "Windows server or workstation, protected by the Unitrends agent.",
    AssetType.SQL: "Microsoft SQL Server database, protected application-aware.",
    AssetType.EXCHANGE: "Microsoft Exchange database, protected application-aware.",
    AssetType.ORACLE: "Oracle database, protected application-aware.",
    AssetType.NAS: "NAS share, protected over CIFS/NFS or NDMP.",
    AssetType.OS: "Linux or another operating system, protected by the Unitrends agent.",
}
# Short badges rather than emoji: a server may have no emoji font, and a badge reads the same everywhere.
TYPE_ICONS = {
    AssetType.VMWARE: "VM", AssetType.HYPERV: "HV", AssetType.WINDOWS: "WIN", AssetType.SQL: "SQL",
    AssetType.EXCHANGE: "EXC", AssetType.ORACLE: "ORA", AssetType.NAS: "NAS", AssetType.OS: "OS",
}
STATUS_LEGEND = {
    "success": ("✔", "Success: the backup or copy completed."),
    "warning": ("⚠", "Warning: completed, with warnings — still a good recovery point."),
    "failed": ("✖", "Failed: no usable recovery point."),
    "cancelled": ("⊘", "Cancelled before it completed."),
    "running": ("⟳", "Running now."),
}
ACTIVE_JOB_STATES = (Job.State.RUNNING, Job.State.QUEUED, Job.State.CANCELLING)
_RANK = {"backup": 1, "copy": 0}  # at the same start, the backup before its copies


def age(moment, now) -> str:
    """R12.1: an age in minutes, hours, days, weeks or months — the largest unit that fits."""
    if moment is None:
        return "–"
    minutes = max(0, int((now - moment).total_seconds() // 60))
    for unit, size in (("month", 43200), ("week", 10080), ("day", 1440), ("hour", 60)):
        if minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return f"{minutes} minute{'s' if minutes != 1 else ''} ago"


@dataclass
class RecoveryPoint:
    kind: str  # "backup" or "copy"
    id: int
    type: str  # full/incremental/… for a backup, hot/cold for a copy
    status: str
    started_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    error: str
    target: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def icon(self) -> str:
        return STATUS_LEGEND.get(self.status, ("?", ""))[0]

    def as_dict(self) -> dict:
        return {
            "id": self.key, "kind": self.kind, "type": self.type, "status": self.status,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "size_bytes": self.size_bytes, "error": self.error, "target": self.target,
        }


def facts(asset, now) -> dict:
    """R12.1: what the asset detail shows, in a few indexed queries."""
    backups = Backup.objects.filter(asset=asset)
    last_full = backups.filter(type=Backup.Type.FULL, status__in=GOOD_STATUSES).order_by("-started_at").first()
    last_local = backups.exclude(status=Backup.Status.RUNNING).order_by("-started_at").first()
    last_copy = BackupCopy.objects.filter(asset=asset).order_by("-started_at").first()
    last_certified = backups.exclude(certified_at=None).order_by("-certified_at").values_list("certified_at", flat=True).first()
    return {
        "id": asset.pk,
        "name": asset.name,
        "type": asset.type,
        "type_label": asset.get_type_display(),
        "type_description": TYPE_DESCRIPTIONS.get(asset.type, asset.get_type_display()),
        "type_icon": TYPE_ICONS.get(asset.type, "•"),
        "appliance": {"id": asset.appliance_id, "name": asset.appliance.name, "status": asset.appliance.status},
        "organization": asset.organization_id,
        "last_full_backup_size_bytes": last_full.size_bytes if last_full else None,
        "last_local_backup": _point(last_local, now),
        "last_backup_copy": _copy(last_copy, now),
        "last_certified_at": last_certified,
        "last_certified_age": age(last_certified, now) if last_certified else "–",
        "active_jobs": list(Job.objects.filter(asset=asset, state__in=ACTIVE_JOB_STATES).order_by("-id")),
        "backup_schedules": schedules(asset, now),
    }


def schedules(asset, now) -> list[dict]:
    """R4.7: each of the asset's schedules with its last and next start (None when it
    cannot be read, or would cost too much to expand)."""
    cache, zone = RecurrenceCache(), asset.appliance.timezone
    answer = []
    for schedule in asset.backup_schedules.all():
        try:
            recurrence = cache.get(schedule.rrule, schedule.dtstart, zone)
            last, following = recurrence.latest_start(now), recurrence.next_start(now)
        except (ValueError, TypeError):
            last = following = None
        answer.append({
            "name": schedule.name or schedule.rrule, "rrule": schedule.rrule, "dtstart": schedule.dtstart,
            "words": describe(schedule.rrule, schedule.dtstart, zone),
            "last_start": last, "next_start": following,
            "last_start_label": describe_local(last, zone), "next_start_label": describe_local(following, zone),
        })
    return answer


def _point(backup, now):
    if backup is None:
        return None
    return {"id": backup.pk, "status": backup.status, "started_at": backup.started_at,
            "finished_at": backup.finished_at, "age": age(backup.finished_at or backup.started_at, now)}


def _copy(copy, now):
    if copy is None:
        return None  # R12.1: shown as "–"
    return {"id": copy.pk, "target": copy.target, "target_label": copy.get_target_display(),
            "status": copy.status, "started_at": copy.started_at, "finished_at": copy.finished_at,
            "age": age(copy.finished_at or copy.started_at, now)}


def recovery_points(asset, cursor: str | None, size: int) -> tuple[list[RecoveryPoint], str | None]:
    """One page, newest first, and the cursor of the next page (None at the end)."""
    after = _decode(cursor)
    backups = Backup.objects.filter(asset=asset)
    copies = BackupCopy.objects.filter(asset=asset)
    if after is not None:
        backups = backups.filter(_after(after, "backup"))
        copies = copies.filter(_after(after, "copy"))
    points = [
        RecoveryPoint("backup", b.pk, b.type, b.status, b.started_at, b.finished_at, b.size_bytes, b.error)
        for b in backups.order_by("-started_at", "-id")[: size + 1]
    ] + [
        RecoveryPoint("copy", c.pk, c.target, c.status, c.started_at, c.finished_at, None, c.error, c.target)
        for c in copies.order_by("-started_at", "-id")[: size + 1]
    ]
    points.sort(key=lambda p: (p.started_at, _RANK[p.kind], p.id), reverse=True)
    page, more = points[:size], len(points) > size
    if not more or not page:
        return page, None
    last = page[-1]
    return page, _encode(last.started_at, last.kind, last.id)


def _after(cursor, kind) -> Q:
    """Rows strictly after the cursor in (started_at, rank, id) descending order."""
    started_at, cursor_kind, cursor_id = cursor
    rank, cursor_rank = _RANK[kind], _RANK[cursor_kind]
    older = Q(started_at__lt=started_at)
    if rank < cursor_rank:
        return older | Q(started_at=started_at)
    if rank == cursor_rank:
        return older | Q(started_at=started_at, id__lt=cursor_id)
    return older


def _encode(started_at, kind, pk) -> str:
    raw = json.dumps([started_at.isoformat(), kind, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor):
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started_at, kind, pk = json.loads(text)
        if kind not in _RANK:
            raise ValueError(kind)
        moment = datetime.fromisoformat(started_at)
        # What we give out is aware and a real id; anything else was edited on the way back.
        if moment.tzinfo is None or not isinstance(pk, int) or not 0 < pk <= BIGINT_MAX:
            raise ValueError(cursor)
        return moment, kind, pk
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("This cursor is not one we gave out.") from exc


class InvalidCursor(ValueError):
    pass


def job_for(point_kind, point_id, asset):
    """R12.2: the details of the job behind a recovery point."""
    if point_kind == "backup":
        backup = Backup.objects.filter(asset=asset, pk=point_id).first()
        if backup is None:
            return None
        return {"point": backup, "kind": "backup", "jobs": list(backup.jobs.order_by("-id"))}
    copy = BackupCopy.objects.filter(asset=asset, pk=point_id).select_related("backup").first()
    if copy is None:
        return None
    return {"point": copy, "kind": "copy", "of_backup": copy.backup, "jobs": []}


# R12.2: cancelling is sent to the appliance by its integration. Inventory does
# not import integrations (ARCHITECTURE.md): the integration listens to a signal.


class CancelFailed(Exception):
    """The appliance could not be asked, or did not confirm; the message is for a person."""


def cancel_job(job):
    """Send the cancel to the appliance and answer the job as confirmed (cancelled or cancelling)."""
    if job.state not in ACTIVE_JOB_STATES:
        raise CancelFailed(f"This job is {job.state}; only an active job can be cancelled.")
    answers = [confirmed for _, confirmed in job_cancel_requested.send(sender=Job, job=job) if confirmed is not None]
    if not answers:
        raise CancelFailed("No appliance integration is installed to send the cancel.")
    return answers[0]  # a listener raises CancelFailed with a message for people
