"""The jobs step: the appliance's active jobs; a job it no longer lists is over."""

from integrations.unitrends.steps.values import to_int
from inventory.models import Asset, Job

JOB_STATES = {"running": Job.State.RUNNING, "active": Job.State.RUNNING, "queued": Job.State.QUEUED,
              "waiting": Job.State.QUEUED, "cancelling": Job.State.CANCELLING}


def jobs(client, appliance, since, now) -> int:
    assets_by_name = dict(Asset.objects.filter(appliance=appliance).values_list("name", "pk"))
    wanted = {}
    for row in client.active_jobs():
        if row.get("id") is None:
            continue
        state = JOB_STATES.get(str(row.get("status", "")).lower(), Job.State.RUNNING)
        wanted[str(row["id"])] = {
            "state": state, "progress_percent": max(0, min(100, to_int(row.get("percent_complete")))),
            "asset_id": assets_by_name.get(row.get("instance_name")),
            "details": {"name": row.get("name", ""), "status": row.get("status", ""),
                        "instance_name": row.get("instance_name", "")},
        }
    existing = {j.external_id: j for j in Job.objects.filter(appliance=appliance)}
    changed = 0
    for external_id, fields in wanted.items():
        job = existing.get(external_id)
        if job is None:
            Job.objects.create(account_id=appliance.account_id, appliance=appliance, external_id=external_id,
                               started_at=now, **fields)
        elif job.state == Job.State.CANCELLING or all(getattr(job, k) == v for k, v in fields.items()):
            continue  # a cancel we asked for stays "cancelling" until the appliance drops the job
        else:
            Job.objects.filter(pk=job.pk).update(**fields)
        changed += 1
    # A job the appliance no longer lists as active is over.
    gone = [j for k, j in existing.items() if k not in wanted and j.state in (Job.State.RUNNING, Job.State.QUEUED, Job.State.CANCELLING)]
    for job in gone:
        state = Job.State.CANCELLED if job.state == Job.State.CANCELLING else Job.State.FINISHED
        Job.objects.filter(pk=job.pk).update(state=state, finished_at=now)
    return changed + len(gone)
